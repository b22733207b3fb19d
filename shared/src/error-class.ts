import { ErrorCode, isErrorCode, type ErrorCodeString } from './error-codes.js';

/**
 * What an error means for whoever holds it — the one place that decides it (STYLE.md §15).
 *
 * - `retryable`: transient; trying again later, with backoff, may succeed.
 * - `path-failure`: the path under a stream was lost (connection, relay, far end's link); a
 *   resumable stream resumes elsewhere, and a new connection may succeed (so also retryable).
 * - `moved`: the stream left this path on purpose (a resume elsewhere): this path is done, the
 *   stream is not. A path failure for the stream, nothing to retry.
 * - `refusal`: the relay or far end said no for a reason retrying cannot fix (token, rights,
 *   name, protocol version).
 * - `resume-refusal`: the far end refused to resume a stream; the stream is over.
 * - `final`: everything else; the operation failed and that is its answer.
 */
export type ErrorClass = 'retryable' | 'path-failure' | 'moved' | 'refusal' | 'resume-refusal' | 'final';

/** Every code's class; a new code does not compile until it is placed here. */
const CLASS_OF: Readonly<Record<ErrorCodeString, ErrorClass>> = {
  [ErrorCode.RELAY_UNREACHABLE]: 'retryable',
  [ErrorCode.TUNNEL_OFFLINE]: 'retryable',
  [ErrorCode.NO_RELAY]: 'retryable',
  [ErrorCode.QUEUE_FULL]: 'retryable',

  [ErrorCode.CONNECTION_LOST]: 'path-failure',
  [ErrorCode.PEER_GONE]: 'path-failure',
  [ErrorCode.GOING_AWAY]: 'path-failure',
  [ErrorCode.TIMEOUT]: 'path-failure',

  [ErrorCode.STREAM_MOVED]: 'moved',
  // A quota frees up as the identity's other links or names go: worth trying again later.
  [ErrorCode.QUOTA_EXCEEDED]: 'retryable',

  [ErrorCode.UNAUTHORIZED]: 'refusal',
  [ErrorCode.FORBIDDEN]: 'refusal',
  [ErrorCode.TUNNEL_FORBIDDEN]: 'refusal',
  [ErrorCode.TUNNEL_UNKNOWN]: 'refusal',
  [ErrorCode.INVALID_TUNNEL_NAME]: 'refusal',
  [ErrorCode.UNSUPPORTED_VERSION]: 'refusal',

  [ErrorCode.RESUME_UNKNOWN]: 'resume-refusal',
  [ErrorCode.RESUME_SECRET]: 'resume-refusal',
  [ErrorCode.RESUME_OFFSET]: 'resume-refusal',

  [ErrorCode.PROTOCOL_ERROR]: 'final',
  [ErrorCode.FRAME_TOO_LARGE]: 'final',
  [ErrorCode.FRAME_INVALID]: 'final',
  [ErrorCode.FRAME_TRUNCATED]: 'final',
  [ErrorCode.UNKNOWN_FRAME_TYPE]: 'final',
  [ErrorCode.UNKNOWN_STREAM]: 'final',
  [ErrorCode.FLOW_CONTROL]: 'final',
  [ErrorCode.STREAM_LIMIT]: 'final',
  [ErrorCode.BUFFER_LIMIT]: 'final',
  // Another host holds the tunnel; it may let go, so a host keeps trying (slowly).
  [ErrorCode.TUNNEL_IN_USE]: 'final',
  [ErrorCode.TARGET_REFUSED]: 'final',
  [ErrorCode.TARGET_UNREACHABLE]: 'final',
  [ErrorCode.CANCELLED]: 'final',
  [ErrorCode.INTERNAL]: 'final',
  // Local: no relay took the stream back in time. Not a refusal by the far end.
  [ErrorCode.RESUME_TIMEOUT]: 'final',
  [ErrorCode.RELAY_REJECTED]: 'final',
  [ErrorCode.STREAM_CLOSED]: 'final',
  [ErrorCode.INVALID_ARGUMENT]: 'final',
  [ErrorCode.INVALID_CONFIG]: 'final',
  [ErrorCode.ADDRESS_IN_USE]: 'final',
  [ErrorCode.USER_EXISTS]: 'final',
  [ErrorCode.NOT_FOUND]: 'final',
  [ErrorCode.HOST_KEY_UNKNOWN]: 'final',
  [ErrorCode.HOST_KEY_CHANGED]: 'final',
  [ErrorCode.SSH_AUTH_FAILED]: 'final',
  [ErrorCode.SSH_CONNECT_FAILED]: 'final',
  [ErrorCode.IDENTITY_UNREADABLE]: 'final',
  [ErrorCode.SERVICE_FAILED]: 'final',
  [ErrorCode.PDF_RENDER_FAILED]: 'final',
  [ErrorCode.INVITE_INVALID]: 'refusal',
  [ErrorCode.INVITE_REVOKED]: 'refusal',
  [ErrorCode.INVITE_EXPIRED]: 'refusal',
  [ErrorCode.INVITE_USED_UP]: 'refusal',
  [ErrorCode.INVITE_NOT_FOR_YOU]: 'refusal',
  [ErrorCode.REQUEST_CLOSED]: 'final',
  [ErrorCode.REVIEW_REFUSED]: 'refusal',
  // The store comes back by itself (the client reconnects): trying again later may succeed.
  [ErrorCode.STORE_UNAVAILABLE]: 'retryable',
  // Later, not at once: the error's retryAfterMs says when.
  [ErrorCode.RATE_LIMITED]: 'retryable',
  // The tunnel's owner restricted its protocols: the same stream is refused every time.
  [ErrorCode.PROTOCOL_NOT_ALLOWED]: 'refusal',
  // Flows end by themselves (idle timeouts): a new flow may fit later.
  [ErrorCode.FLOW_LIMIT]: 'retryable',
  // The relay admin disabled the tunnel, or blocked the user: until they undo it, the answer stays no.
  [ErrorCode.TUNNEL_DISABLED]: 'refusal',
  [ErrorCode.USER_BLOCKED]: 'refusal',
};

/** Anything with a code: a TetherError, or a status record that kept only the code. */
type Coded = { readonly code: string };

/** The class of a code; a string that is no Tether code (a newer peer's, an errno) is `final`. */
export function classify(code: string): ErrorClass {
  return isErrorCode(code) ? CLASS_OF[code] : 'final';
}

/** True when trying again later (with backoff) may succeed: `retryable` and `path-failure`. */
export function isRetryable(err: Coded | undefined): boolean {
  const kind = err && classify(err.code);
  return kind === 'retryable' || kind === 'path-failure';
}

/** True when the stream's path was lost, not the stream (`path-failure` and `moved`): resume it elsewhere. */
export function isPathFailure<E extends Coded>(err: E | undefined): err is E {
  const kind = err && classify(err.code);
  return kind === 'path-failure' || kind === 'moved';
}

/** True when retrying cannot help: the token, the rights, the name or the protocol version was refused. */
export function isRefusal(err: Coded | undefined): boolean {
  return err !== undefined && classify(err.code) === 'refusal';
}

/** True when the far end refused to resume a stream (the stream cannot continue). */
export function isResumeRefusal(err: Coded | undefined): boolean {
  return err !== undefined && classify(err.code) === 'resume-refusal';
}
