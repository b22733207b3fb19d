/**
 * The code tables: numeric wire codes, string codes and WebSocket close codes. Pure data with no
 * Node built-in, so the protocol entry (`@tether/shared/protocol`) can carry them to a webview.
 */

/** Numeric codes carried on the wire (u16). Never renumber: peers of other versions rely on them. */
export const WireCode = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FRAME_TOO_LARGE: 2,
  FRAME_INVALID: 3,
  UNKNOWN_STREAM: 4,
  FLOW_CONTROL: 5,
  STREAM_LIMIT: 6,
  BUFFER_LIMIT: 7,
  TUNNEL_UNKNOWN: 8,
  TUNNEL_FORBIDDEN: 9,
  TUNNEL_OFFLINE: 10,
  INVALID_TUNNEL_NAME: 11,
  TARGET_REFUSED: 12,
  TARGET_UNREACHABLE: 13,
  TIMEOUT: 14,
  GOING_AWAY: 15,
  CANCELLED: 16,
  PEER_GONE: 17,
  INTERNAL: 18,
  /** The stream moved to another attachment (a resume); the old one is done, the stream is not. */
  STREAM_MOVED: 19,
  /** Resume refused: no such stream (or it ended) at the far end. */
  RESUME_UNKNOWN: 20,
  /** Resume refused: the proof of the resume secret is wrong (or replayed). */
  RESUME_SECRET: 21,
  /** Resume refused: the offset asked for is outside what the replay buffer holds. */
  RESUME_OFFSET: 22,
  /** A cluster node's shared store (Redis) does not answer: the open cannot be decided; retry. */
  STORE_UNAVAILABLE: 23,
  /** A rate limit of the relay refused the open; the message says when to try again (retry-after.ts). */
  RATE_LIMITED: 24,
  /** The tunnel admits only some protocols (`tether share --allow`), and the stream is of another kind. */
  PROTOCOL_NOT_ALLOWED: 25,
  /** A UDP tunnel has as many flows as it allows (`tether share --udp`; docs/udp.md). */
  FLOW_LIMIT: 26,
  TUNNEL_DISABLED: 27,
} as const;
export type WireCodeName = keyof typeof WireCode;

/** String codes: `TETHER_ERR_<NAME>`. Wire codes map onto them one to one; the rest are local. */
export const ErrorCode = {
  PROTOCOL_ERROR: 'TETHER_ERR_PROTOCOL',
  FRAME_TOO_LARGE: 'TETHER_ERR_FRAME_TOO_LARGE',
  FRAME_INVALID: 'TETHER_ERR_FRAME_INVALID',
  FRAME_TRUNCATED: 'TETHER_ERR_FRAME_TRUNCATED',
  UNKNOWN_FRAME_TYPE: 'TETHER_ERR_UNKNOWN_FRAME_TYPE',
  UNKNOWN_STREAM: 'TETHER_ERR_UNKNOWN_STREAM',
  FLOW_CONTROL: 'TETHER_ERR_FLOW_CONTROL',
  STREAM_LIMIT: 'TETHER_ERR_STREAM_LIMIT',
  BUFFER_LIMIT: 'TETHER_ERR_BUFFER_LIMIT',
  TUNNEL_UNKNOWN: 'TETHER_ERR_TUNNEL_UNKNOWN',
  TUNNEL_FORBIDDEN: 'TETHER_ERR_TUNNEL_FORBIDDEN',
  TUNNEL_OFFLINE: 'TETHER_ERR_TUNNEL_OFFLINE',
  TUNNEL_IN_USE: 'TETHER_ERR_TUNNEL_IN_USE',
  INVALID_TUNNEL_NAME: 'TETHER_ERR_INVALID_TUNNEL_NAME',
  TARGET_REFUSED: 'TETHER_ERR_TARGET_REFUSED',
  TARGET_UNREACHABLE: 'TETHER_ERR_TARGET_UNREACHABLE',
  TIMEOUT: 'TETHER_ERR_TIMEOUT',
  GOING_AWAY: 'TETHER_ERR_GOING_AWAY',
  CANCELLED: 'TETHER_ERR_CANCELLED',
  PEER_GONE: 'TETHER_ERR_PEER_GONE',
  INTERNAL: 'TETHER_ERR_INTERNAL',
  STREAM_MOVED: 'TETHER_ERR_STREAM_MOVED',
  RESUME_UNKNOWN: 'TETHER_ERR_RESUME_UNKNOWN',
  RESUME_SECRET: 'TETHER_ERR_RESUME_SECRET',
  RESUME_OFFSET: 'TETHER_ERR_RESUME_OFFSET',
  /** A stream lost its relay and could not be resumed through any other in time. */
  RESUME_TIMEOUT: 'TETHER_ERR_RESUME_TIMEOUT',
  /** Too many stream opens are already waiting for a relay. */
  QUEUE_FULL: 'TETHER_ERR_QUEUE_FULL',
  /** No relay endpoint became available within the open queue's timeout. */
  NO_RELAY: 'TETHER_ERR_NO_RELAY',
  /** A per-user or per-address quota of the relay (links, tunnel names, registrations) is used up. */
  QUOTA_EXCEEDED: 'TETHER_ERR_QUOTA_EXCEEDED',
  UNAUTHORIZED: 'TETHER_ERR_UNAUTHORIZED',
  FORBIDDEN: 'TETHER_ERR_FORBIDDEN',
  UNSUPPORTED_VERSION: 'TETHER_ERR_UNSUPPORTED_VERSION',
  RELAY_UNREACHABLE: 'TETHER_ERR_RELAY_UNREACHABLE',
  RELAY_REJECTED: 'TETHER_ERR_RELAY_REJECTED',
  CONNECTION_LOST: 'TETHER_ERR_CONNECTION_LOST',
  STREAM_CLOSED: 'TETHER_ERR_STREAM_CLOSED',
  INVALID_ARGUMENT: 'TETHER_ERR_INVALID_ARGUMENT',
  INVALID_CONFIG: 'TETHER_ERR_INVALID_CONFIG',
  /** A port to listen on is already in use. */
  ADDRESS_IN_USE: 'TETHER_ERR_ADDRESS_IN_USE',
  USER_EXISTS: 'TETHER_ERR_USER_EXISTS',
  NOT_FOUND: 'TETHER_ERR_NOT_FOUND',
  HOST_KEY_UNKNOWN: 'TETHER_ERR_HOST_KEY_UNKNOWN',
  HOST_KEY_CHANGED: 'TETHER_ERR_HOST_KEY_CHANGED',
  SSH_AUTH_FAILED: 'TETHER_ERR_SSH_AUTH_FAILED',
  SSH_CONNECT_FAILED: 'TETHER_ERR_SSH_CONNECT_FAILED',
  IDENTITY_UNREADABLE: 'TETHER_ERR_IDENTITY_UNREADABLE',
  /** The service manager (systemd) refused or could not run a `tether service` action. */
  SERVICE_FAILED: 'TETHER_ERR_SERVICE_FAILED',
  /** An invite code that is not one: malformed, truncated, or not signed by this relay. */
  INVITE_INVALID: 'TETHER_ERR_INVITE_INVALID',
  /** An invite that was revoked by the tunnel's owner or an admin. */
  INVITE_REVOKED: 'TETHER_ERR_INVITE_REVOKED',
  INVITE_EXPIRED: 'TETHER_ERR_INVITE_EXPIRED',
  /** An invite accepted as many times as it allows. */
  INVITE_USED_UP: 'TETHER_ERR_INVITE_USED_UP',
  /** An invite bound to another user. */
  INVITE_NOT_FOR_YOU: 'TETHER_ERR_INVITE_NOT_FOR_YOU',
  /** An access request that is approved or denied already. */
  REQUEST_CLOSED: 'TETHER_ERR_REQUEST_CLOSED',
  /** A reviewer reviewing their own request, or one they reviewed already. */
  REVIEW_REFUSED: 'TETHER_ERR_REVIEW_REFUSED',
  /** The relay's shared store (Redis) does not answer: the request may succeed once it is back. */
  STORE_UNAVAILABLE: 'TETHER_ERR_STORE_UNAVAILABLE',
  /** A rate limit of the relay refused the request; `retryAfterMs` (HTTP Retry-After) says when to try again. */
  RATE_LIMITED: 'TETHER_ERR_RATE_LIMITED',
  PROTOCOL_NOT_ALLOWED: 'TETHER_ERR_PROTOCOL_NOT_ALLOWED',
  FLOW_LIMIT: 'TETHER_ERR_FLOW_LIMIT',
  TUNNEL_DISABLED: 'TETHER_ERR_TUNNEL_DISABLED',
  USER_BLOCKED: 'TETHER_ERR_USER_BLOCKED',
  /** A PDF could not be made: no headless Chromium found, or it failed. */
  PDF_RENDER_FAILED: 'TETHER_ERR_PDF_RENDER_FAILED',
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeString = (typeof ErrorCode)[ErrorCodeName];

/** WebSocket close codes used by Tether (RFC 6455 §7.4 plus the 4000–4999 private range). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL: 1011,
  BUFFER_LIMIT: 4001,
  IDLE_TIMEOUT: 4002,
  REPLACED: 4003,
} as const;

const errorCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `value` is one of the string codes above (not merely something that starts with `TETHER_ERR_`). */
export function isErrorCode(value: unknown): value is ErrorCodeString {
  return typeof value === 'string' && errorCodes.has(value);
}

const wireOfCode = new Map<string, number>(
  (Object.keys(ErrorCode) as ErrorCodeName[]).map((name) => [ErrorCode[name], name in WireCode ? WireCode[name as WireCodeName] : WireCode.INTERNAL]),
);
const nameOfWire = new Map<number, WireCodeName>((Object.entries(WireCode) as [WireCodeName, number][]).map(([name, code]) => [code, name]));

/** The u16 sent on the wire for a string code (INTERNAL for codes with no wire form). */
export function wireCodeOf(code: ErrorCodeString): number {
  return wireOfCode.get(code) ?? WireCode.INTERNAL;
}

/** The name of a wire code, or undefined for a number no version of the protocol defines. */
export function wireCodeName(wire: number): WireCodeName | undefined {
  return nameOfWire.get(wire);
}
