/**
 * What a failed attempt to talk to a relay means, in a sentence that says what is wrong and what
 * to do, with its code: Node's errno codes, undici's (fetch) and ws's errors, TLS failures, and
 * answers from something that is not a relay. The one translation for the HTTP API (relay-api),
 * the WebSocket (relay-session) and the health probe, so the CLI and VS Code say the same thing.
 * The advice names "the relay URL" rather than a flag: both front ends show these messages.
 */
import { STATUS_CODES } from 'node:http';
import { createError, ErrorCode, isTetherError, type TetherError } from '@tether/shared';

/** The fields of Node, undici and ws errors that tell what happened. */
interface LowLevelError {
  name?: string;
  code?: unknown;
  message?: string;
  /** Node's HTTP client: the bytes its parser choked on. */
  rawPacket?: unknown;
  /** undici's HTTPParserError: the same. */
  data?: unknown;
  cause?: unknown;
}

/** Certificate verification codes of OpenSSL (as Node reports them) that mean "not trusted". */
const UNTRUSTED_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** fetch wraps the real error in `cause` ("fetch failed"); ws and node:http hand it over as it is. */
function innermost(err: unknown): LowLevelError {
  let e = (err ?? {}) as LowLevelError;
  for (let depth = 0; depth < 4 && e.cause && typeof e.cause === 'object'; depth++) e = e.cause;
  return e;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return url;
  }
}

/** OpenSSL's reason ("wrong version number") from `err.reason` or from its `lib:func:reason:file` message. */
function opensslReason(e: LowLevelError & { reason?: unknown }, code: string): string {
  if (typeof e.reason === 'string') return e.reason;
  return (e.message ?? '').split(':').filter((part) => /^[a-z][a-z0-9 ]* [a-z0-9 ]*[a-z0-9]$/.test(part)).pop() ?? code;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * The error for a connection to the relay at `url` (its http(s) form) that failed before any
 * HTTP answer, with a sentence instead of an errno: RELAY_UNREACHABLE (retried), or
 * RELAY_REJECTED (final) when the URL reaches something that is not a usable relay as it stands:
 * not HTTP at all, plain HTTP where TLS was asked for, a certificate not trusted or not for
 * that name.
 * `timeoutMs` is the limit that ran out, when the failure is a timeout.
 */
export function describeConnectError(err: unknown, url: string, timeoutMs?: number): TetherError {
  if (isTetherError(err)) return err;
  const e = innermost(err);
  const code = typeof e.code === 'string' ? e.code : '';
  const message = e.message ?? String(err);
  const tls = url.startsWith('https:');
  const fail = (why: string): TetherError => createError(ErrorCode.RELAY_UNREACHABLE, why);
  // The URL reaches something, but not a relay this client can use as it is: retrying the same
  // URL cannot help (RELAY_REJECTED is final), the URL or the trust settings must change.
  const wrong = (why: string): TetherError => createError(ErrorCode.RELAY_REJECTED, why);

  if (code.startsWith('HPE_')) {
    // Node's HTTP parser met bytes that are not an HTTP answer: some other service listens there.
    const raw = e.rawPacket ?? e.data;
    const answer = Buffer.isBuffer(raw) ? raw.toString('latin1') : typeof raw === 'string' ? raw : '';
    const what = answer.startsWith('SSH-') ? 'it is an SSH server' : 'it answered with something that is not HTTP';
    return wrong(`${url} is not a Tether relay (${what}); check the relay URL`);
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(message)) {
    return wrong(`${url} does not speak TLS; use http:// (or ws://) for this relay`);
  }
  if (UNTRUSTED_CERT.has(code)) {
    return wrong(`the TLS certificate of ${url} is not trusted (${message}); if the relay's certificate is self-signed or from a private CA, start with NODE_EXTRA_CA_CERTS set to that certificate's PEM file`);
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return fail(`the TLS certificate of ${url} is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}; the relay needs a current certificate (or this machine's clock is wrong)`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return wrong(`the TLS certificate of ${url} is not for ${hostOf(url)}; use a host name the certificate names in the relay URL`);
  }
  if (code.startsWith('ERR_SSL_') || (code === 'EPROTO' && /SSL|TLS/.test(message))) {
    return fail(`the TLS handshake with ${url} failed (${opensslReason(e, code)}); check that the relay URL's scheme and port are the relay's`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return fail(`nothing listens at ${url} (connection refused); check that the relay is running and the relay URL`);
    case 'ENOTFOUND':
      return fail(`host ${hostOf(url)} not found (no DNS entry); check the relay URL`);
    case 'EAI_AGAIN':
      return fail(`cannot look up host ${hostOf(url)} (DNS did not answer); check this machine's network`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fail(`no route to ${hostOf(url)} (${code === 'EHOSTUNREACH' ? 'host' : 'network'} unreachable); check the relay URL and this machine's network or VPN`);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return fail(`${url} did not accept the connection in time; check the relay URL, and that no firewall blocks it`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      // A TLS server hangs up on plain HTTP: the likeliest reason a relay URL gets no answer.
      return fail(`${url} closed the connection without answering; ${tls ? 'check that it is a Tether relay' : 'if the relay uses TLS, use https:// (or wss://), otherwise check that it is a Tether relay'}`);
  }
  if (e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || /timed out/i.test(message)) {
    return fail(`${url} did not answer${timeoutMs === undefined ? ' in time' : ` within ${seconds(timeoutMs)}`}; check the relay URL, and that the relay is running`);
  }
  if (message === 'bad port') {
    // fetch refuses ports reserved for other protocols (the Fetch standard's "bad port" list).
    return fail(`${url} uses a port reserved for another protocol, which no relay listens on; check the relay URL`);
  }
  return fail(`cannot reach relay at ${url}: ${code || message}`);
}

/** What was asked when an answer came back: `GET /v1/tunnels`, or the WebSocket upgrade. */
export interface Asked {
  /** The relay's http(s) URL. */
  url: string;
  /** `METHOD /path` (without the query: it may carry a tunnel name). */
  request: string;
  /** True for a WebSocket upgrade, where anything but 101 is a failure. */
  upgrade?: boolean;
}

/**
 * The error for an HTTP answer that carries no Tether error body (a relay always sends
 * `{ code, message }`): something else answered. RELAY_REJECTED, or UNAUTHORIZED for a bare 401
 * (a proxy's own authentication).
 */
export function describeForeignAnswer(status: number, body: string, asked: Asked): TetherError {
  if (status === 401) return createError(ErrorCode.UNAUTHORIZED, `${asked.url} refused the token (HTTP 401 without a Tether error: a proxy in front of the relay?); check the token and the relay URL`);
  const statusText = STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : '';
  const html = /^\s*<(!doctype|html|head|body)/i.test(body);
  let why: string;
  if (status >= 200 && status < 300) {
    why = asked.upgrade ? `it answered the WebSocket upgrade with HTTP ${status}${statusText}` : `it answered ${asked.request} with ${html ? 'an HTML page' : 'something'} that is not JSON`;
  } else if (status >= 500) {
    // A 502/503/504 page comes from a proxy whose relay is down as often as from a non-relay.
    return createError(ErrorCode.RELAY_REJECTED, `${asked.url} answered ${asked.request} with HTTP ${status}${statusText} and no Tether error: it is not a Tether relay, or a proxy in front of the relay cannot reach it; check the relay URL and that the relay is running`);
  } else {
    why = `it answered HTTP ${status}${statusText} to ${asked.request}`;
  }
  return createError(ErrorCode.RELAY_REJECTED, `${asked.url} is not a Tether relay (${why}); check the relay URL`);
}
