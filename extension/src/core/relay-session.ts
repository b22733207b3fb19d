import WebSocket from 'ws';
import {
  CloseCode,
  createError,
  Defaults,
  ErrorCode,
  isErrorCode,
  MuxSession,
  MAX_FRAME_SIZE_CEILING,
  MAX_FRAME_SIZE_HEADER,
  SUBPROTOCOL,
  type SessionOptions,
  type TetherError,
} from '@tether/shared';
import { errorFromBody, unreachable } from './relay-api.js';
import { parseRelayUrl } from './relay-url.js';

export type Endpoint = 'host' | 'connect';

export interface RelaySessionOptions {
  relay: string;
  token: string;
  endpoint: Endpoint;
  /** Tunnel to register (host endpoint only). */
  tunnel?: string;
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

function closeError(code: number, reason: string): TetherError {
  // The relay puts the stable code in the close reason; the CLI prints it next to the message.
  if (isErrorCode(reason)) {
    const why = code === CloseCode.GOING_AWAY ? 'the relay is shutting down' : `the relay closed the connection (close code ${code})`;
    return createError(reason, why, code);
  }
  if (code === CloseCode.GOING_AWAY) return createError(ErrorCode.GOING_AWAY, 'relay went away', code);
  return createError(ErrorCode.CONNECTION_LOST, `connection to relay lost (close code ${code}${reason ? `: ${reason}` : ''})`, code);
}

/** Connects to `/v1/host` or `/v1/connect` and resolves once the upgrade succeeded. */
export function connectRelaySession(options: RelaySessionOptions): Promise<RelaySession> {
  const urls = parseRelayUrl(options.relay);
  const query = options.endpoint === 'host' ? `?tunnel=${encodeURIComponent(options.tunnel ?? '')}` : '';
  const url = `${urls.ws}/v1/${options.endpoint}${query}`;
  const highWaterMark = options.highWaterMark ?? 4 * 1024 * 1024;
  const pingIntervalMs = options.pingIntervalMs ?? Defaults.pingIntervalMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? Defaults.idleTimeoutMs;

  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [SUBPROTOCOL], {
      headers: { authorization: `Bearer ${options.token}` },
      handshakeTimeout: options.handshakeTimeoutMs ?? Defaults.handshakeTimeoutMs,
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
      res.on('end', () => {
        reject(errorFromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        ws.terminate();
      });
      res.on('error', () => reject(createError(ErrorCode.RELAY_REJECTED, `relay answered HTTP ${res.statusCode}`)));
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (opened) return; // reported through 'close'
      if (/handshake has timed out/i.test(err.message)) {
        reject(createError(ErrorCode.RELAY_UNREACHABLE, `relay at ${urls.http} did not complete the handshake in time`));
      } else if (/subprotocol/i.test(err.message)) {
        reject(createError(ErrorCode.UNSUPPORTED_VERSION, `relay at ${urls.http} does not speak ${SUBPROTOCOL}`));
      } else {
        reject(unreachable(urls.http, { cause: err }));
      }
    });

    let relayMaxFrameSize: number | undefined;
    ws.on('upgrade', (res) => {
      const advertised = Number(res.headers[MAX_FRAME_SIZE_HEADER]);
      if (Number.isInteger(advertised) && advertised >= 1024 && advertised <= MAX_FRAME_SIZE_CEILING) relayMaxFrameSize = advertised;
    });
    ws.on('open', () => {
      opened = true;
      const session = new MuxSession({
        ...options.session,
        ...(relayMaxFrameSize === undefined ? {} : { maxFrameSize: relayMaxFrameSize }),
        role: 'client',
        send: (message) => {
          buffered += message.length;
          ws.send(message, { binary: true }, () => {
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
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) session.receive(data);
      });
      ws.on('close', (code, reason) => {
        clearInterval(timer);
        const err = closedByUs ? undefined : (sessionError ?? closeError(code, reason.toString()));
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
