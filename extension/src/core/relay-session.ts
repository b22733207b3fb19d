import WebSocket from 'ws';
import type { Socket } from 'node:net';
import { userAgent } from './client-version.js';
import {
  CloseCode,
  createError,
  Defaults,
  ErrorCode,
  framePoolFor,
  HEADER_SIZE,
  isErrorCode,
  MuxSession,
  MAX_FRAME_SIZE_CEILING,
  MAX_FRAME_SIZE_HEADER,
  MAX_WINDOW_HEADER,
  PUBLIC_URL_HEADER,
  NODE_HEADER,
  SUBPROTOCOL,
  tunnelSettingsQuery,
  type TunnelSettings,
  type SessionOptions,
  type TetherError,
} from '@tether/shared';
import { describeConnectError } from './connect-error.js';
import { errorFromBody } from './relay-api.js';
import { parseRelayUrl, type RelayUrls } from './relay-url.js';

export type Endpoint = 'host' | 'connect';

export interface RelaySessionOptions {
  relay: string;
  token: string;
  endpoint: Endpoint;
  /** Tunnel to register (host endpoint only). */
  tunnel?: string;
  /** What the host asks of the relay for its tunnel (host endpoint only): HTTP ingress, allowed protocols, UDP. */
  settings?: TunnelSettings;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
  idleTimeoutMs?: number;
  /** Bytes queued on the socket before streams are asked to wait. */
  highWaterMark?: number;
  session?: Partial<Omit<SessionOptions, 'send' | 'role'>>;
}

/** A live session with a relay over one WebSocket. */
export interface RelaySession {
  readonly session: MuxSession;
  /** Host sessions of HTTP tunnels: the URL the relay's HTTP ingress serves the tunnel at (docs/http.md). */
  readonly publicUrl?: string;
  /** The id of the relay node that took this connection (what its upgrade answer said), when it said. */
  readonly node?: string;
  /** Resolves when the connection is gone, with the error that ended it (undefined if we closed it). */
  readonly closed: Promise<TetherError | undefined>;
  close(): void;
}

/**
 * Opens a session; the one I/O seam of the client core (tests substitute an in-memory pair).
 * `relay` picks one relay of several (a RelayPool passes it); without it the factory's own.
 */
export type SessionFactory = (endpoint: Endpoint, tunnel?: string, relay?: string) => Promise<RelaySession>;

// RFC 6455 masking keeps script-chosen bytes from looking like HTTP to a transparent proxy
// on the path; it costs a full copy of every frame. Inside TLS (wss) no intermediary sees the
// bytes, and on loopback there is no intermediary, so there an all-zero mask (which ws sends
// as a masked frame without touching the payload) is safe. Plain ws over a network keeps a
// random mask, as the RFC asks.
const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

/** True for wss:// and for loopback hosts (see zeroMask). */
export function canSkipMasking(wsUrl: string): boolean {
  const url = new URL(wsUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return url.protocol === 'wss:' || host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** RFC 6455 §7.4.1 names, for the close codes a relay or a stranger may send. */
const CLOSE_NAMES: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status',
  1006: 'closed without a close frame',
  1007: 'invalid data',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'internal error',
};

/** What a close with one of these codes means, and what to do (the close reason holds only the code). */
const CLOSED_BECAUSE: Partial<Record<string, string>> = {
  [ErrorCode.TUNNEL_DISABLED]: 'the relay admin disabled this tunnel: nobody can share or reach it until they enable it again; ask the relay admin',
  [ErrorCode.USER_BLOCKED]: 'the relay admin blocked your user: ask the relay admin to unblock it',
  [ErrorCode.UNAUTHORIZED]: 'the relay closed the connection: your token was replaced, or your user blocked or deleted; get a token from the relay admin',
};

/**
 * The error for a WebSocket that closed on us. `url` is the relay's http(s) URL; `atOnce` is
 * true when nothing ever came from the relay (not even the answer to the first PING): it
 * accepted the upgrade and hung up, which a Tether relay does only with a coded reason.
 */
export function closeError(code: number, reason: string, url: string, atOnce = false): TetherError {
  // The relay puts the stable code in the close reason; the CLI prints it next to the message.
  if (isErrorCode(reason)) {
    const why = code === CloseCode.GOING_AWAY ? 'the relay is shutting down' : (CLOSED_BECAUSE[reason] ?? `the relay closed the connection (close code ${code})`);
    return createError(reason, why, code);
  }
  if (code === CloseCode.GOING_AWAY) return createError(ErrorCode.GOING_AWAY, 'relay went away', code);
  const how = `close code ${code}${CLOSE_NAMES[code] ? `: ${CLOSE_NAMES[code]}` : ''}${reason ? `, "${reason.slice(0, 80)}"` : ''}`;
  if (atOnce) {
    return createError(ErrorCode.CONNECTION_LOST, `${url} accepted the WebSocket and closed it at once (${how}): it is not a Tether relay, or it is failing; check the relay URL and the relay's log`, code);
  }
  return createError(ErrorCode.CONNECTION_LOST, `connection to relay lost (${how})`, code);
}

/** `?tunnel=NAME` and the tunnel's settings (tunnel-settings.ts), for `/v1/host`. */
function hostQuery(tunnel: string, settings: TunnelSettings | undefined): string {
  const query = settings ? tunnelSettingsQuery(settings) : new URLSearchParams();
  query.set('tunnel', tunnel);
  return `?${query.toString()}`;
}

/** Connects to `/v1/host` or `/v1/connect` and resolves once the upgrade succeeded. */
export function connectRelaySession(options: RelaySessionOptions): Promise<RelaySession> {
  let urls: RelayUrls;
  try {
    urls = parseRelayUrl(options.relay);
  } catch (err) {
    // A rejection like every other failure, not a throw from a function that returns a promise.
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  const query = options.endpoint === 'host' ? hostQuery(options.tunnel ?? '', options.settings) : '';
  const url = `${urls.ws}/v1/${options.endpoint}${query}`;
  const highWaterMark = options.highWaterMark ?? 4 * 1024 * 1024;
  const pingIntervalMs = options.pingIntervalMs ?? Defaults.pingIntervalMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? Defaults.idleTimeoutMs;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? Defaults.handshakeTimeoutMs;

  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [SUBPROTOCOL], {
      headers: { authorization: `Bearer ${options.token}`, 'user-agent': userAgent() },
      handshakeTimeout: handshakeTimeoutMs,
      perMessageDeflate: false,
      // Any relay's largest message (see MAX_FRAME_SIZE_HEADER); frames are checked against the
      // relay's own limit by the session.
      maxPayload: MAX_FRAME_SIZE_CEILING + 64 * 1024,
      skipUTF8Validation: true,
      generateMask: canSkipMasking(urls.ws) ? zeroMask : undefined,
    });
    let opened = false;
    let buffered = 0;
    let closedByUs = false;

    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 8192) chunks.push(c);
        size += c.length;
      });
      const asked = { url: urls.http, request: `GET /v1/${options.endpoint}`, upgrade: true };
      res.on('end', () => {
        reject(errorFromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), asked, res.headers['retry-after']));
        ws.terminate();
      });
      res.on('error', () => reject(errorFromBody(res.statusCode ?? 0, '', asked)));
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (opened) return; // reported through 'close'
      if (/subprotocol/i.test(err.message)) {
        reject(createError(ErrorCode.UNSUPPORTED_VERSION, `${urls.http} does not speak ${SUBPROTOCOL}: it is not a Tether relay, or one of a version this client does not support; check the relay URL, or use a client of the relay's version`));
      } else if (/Sec-WebSocket-Accept|Upgrade header|Invalid status code/i.test(err.message)) {
        reject(createError(ErrorCode.RELAY_REJECTED, `${urls.http} is not a Tether relay (its answer to the WebSocket upgrade is not valid: ${err.message}); check the relay URL`));
      } else {
        reject(describeConnectError(err, urls.http, handshakeTimeoutMs));
      }
    });

    let relayMaxFrameSize: number | undefined;
    let relayMaxWindow: number | undefined;
    let socket: Socket | undefined;
    let publicUrl: string | undefined;
    let node: string | undefined;
    ws.on('upgrade', (res) => {
      socket = res.socket;
      const said = res.headers[NODE_HEADER];
      if (typeof said === 'string' && /^[\w.:-]{1,200}$/.test(said)) node = said;
      const url = res.headers[PUBLIC_URL_HEADER];
      if (typeof url === 'string' && /^https?:\/\/[^\s]{1,300}$/.test(url)) publicUrl = url;
      const advertised = Number(res.headers[MAX_FRAME_SIZE_HEADER]);
      if (Number.isInteger(advertised) && advertised >= 1024 && advertised <= MAX_FRAME_SIZE_CEILING) relayMaxFrameSize = advertised;
      const window = Number(res.headers[MAX_WINDOW_HEADER]);
      if (Number.isInteger(window) && window >= 1 && window <= 0xffffffff) relayMaxWindow = window;
    });
    ws.on('open', () => {
      opened = true;
      const maxFrameSize = relayMaxFrameSize ?? options.session?.maxFrameSize ?? Defaults.maxFrameSize;
      // DATA frames are built in reused memory, each given back once ws has written it out.
      const framePool = framePoolFor(HEADER_SIZE + maxFrameSize);
      // Windows within the relay's per-stream limit: a WINDOW past it resets the stream there.
      const maxWindow = Math.min(options.session?.maxWindow ?? Defaults.maxWindow, relayMaxWindow ?? Infinity);
      const session = new MuxSession({
        ...options.session,
        maxWindow,
        initialWindow: Math.min(options.session?.initialWindow ?? Defaults.initialWindow, maxWindow),
        maxFrameSize,
        framePool,
        // What the session sends in one turn leaves in one write (the socket ws writes to).
        ...(socket ? { cork: socket } : {}),
        role: 'client',
        send: (message) => {
          buffered += message.length;
          ws.send(message, { binary: true }, () => {
            framePool.release(message);
            buffered -= message.length;
            if (buffered < highWaterMark / 2) session.transportDrained();
          });
          return buffered < highWaterMark;
        },
      });
      let settle!: (err: TetherError | undefined) => void;
      const closed = new Promise<TetherError | undefined>((r) => (settle = r));
      const timer = setInterval(() => {
        if (session.now() - session.lastReceivedAt > idleTimeoutMs) {
          session.destroy(createError(ErrorCode.CONNECTION_LOST, `no traffic from relay for ${idleTimeoutMs} ms`));
          ws.terminate();
          return;
        }
        session.ping();
      }, pingIntervalMs);
      timer.unref();
      let heard = false;
      ws.on('message', (data: Buffer, isBinary) => {
        heard = true;
        if (isBinary) session.receive(data);
      });
      ws.on('close', (code, reason) => {
        clearInterval(timer);
        const err = closedByUs ? undefined : (sessionError ?? closeError(code, reason.toString(), urls.http, !heard));
        session.destroy(err);
        settle(err);
      });
      let sessionError: TetherError | undefined;
      session.on('close', (err) => {
        sessionError = err;
        // A protocol error detected locally ends the WebSocket with its close code.
        if (err && ws.readyState === WebSocket.OPEN) ws.close(err.closeCode, err.code);
      });
      // First RTT sample right away: window auto-tuning needs it.
      session.ping();
      resolve({
        session,
        ...(publicUrl === undefined ? {} : { publicUrl }),
        ...(node === undefined ? {} : { node }),
        closed,
        close: () => {
          closedByUs = true;
          session.destroy();
          ws.close(CloseCode.NORMAL);
          setTimeout(() => ws.terminate(), 1000).unref();
        },
      });
    });
  });
}

/** A SessionFactory over real WebSockets; `relay` (when given) replaces `base.relay`. */
export function webSocketFactory(base: Omit<RelaySessionOptions, 'endpoint' | 'tunnel'>): SessionFactory {
  return (endpoint, tunnel, relay) => connectRelaySession({ ...base, endpoint, tunnel, relay: relay ?? base.relay });
}
