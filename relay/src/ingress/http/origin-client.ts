import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { createError, ErrorCode, isTetherError, type HttpOrigin, type TetherError } from '@tether/shared';
import type { Identity } from '../../identity.js';
import type { TunnelDialer } from '../tunnel-dialer.js';
import type { HeaderFields, IngressRequest, IngressResponse } from './ingress-types.js';

export interface OriginClientOptions {
  /** Streams kept alive per tunnel and identity, at most (HTTP/1.1 origins). */
  maxSockets?: number;
  /** An idle kept-alive stream is closed after this long. */
  keepAliveMs?: number;
}

/** An http.Agent whose connections are tunnel streams, opened by the relay as `identity`. */
class TunnelAgent extends http.Agent {
  constructor(private readonly dial: () => Promise<Duplex>, options: http.AgentOptions) {
    super(options);
  }

  // Asynchronous: the agent takes the socket (or the error) through the callback.
  override createConnection(_options: unknown, callback: (err: Error | null, socket?: Duplex) => void): Duplex {
    this.dial().then((socket) => callback(null, socket), (err: Error) => callback(err));
    return undefined as unknown as Duplex;
  }
}

/** An origin's failure as a coded error (what the client is told): the tunnel's, or the origin's own. */
export function originError(err: unknown): TetherError {
  if (isTetherError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return createError(ErrorCode.TARGET_UNREACHABLE, `the service behind the tunnel broke the connection (${code || (err as Error).message})`);
}

/**
 * Requests to origins through tunnels: an HTTP/1.1 keep-alive agent, or one multiplexed h2c
 * session (gRPC), per tunnel and identity, so successive requests reuse tunnel streams.
 */
export class OriginClient {
  private readonly agents = new Map<string, TunnelAgent>();
  private readonly sessions = new Map<string, Promise<http2.ClientHttp2Session>>();
  private readonly maxSockets: number;
  private readonly keepAliveMs: number;

  constructor(private readonly dialer: TunnelDialer, options: OriginClientOptions = {}) {
    this.maxSockets = options.maxSockets ?? 256;
    this.keepAliveMs = options.keepAliveMs ?? 30_000;
  }

  fetch(identity: Identity, tunnel: string, origin: HttpOrigin, request: IngressRequest): Promise<IngressResponse> {
    const key = `${identity.visitor ? `v:${identity.visitor.access}` : `u:${identity.id}`}\0${tunnel}`;
    return origin === 'h2c' ? this.fetchH2(key, identity, tunnel, request) : this.fetchH1(key, identity, tunnel, request);
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    for (const session of this.sessions.values()) session.then((s) => s.destroy(), () => undefined);
    this.sessions.clear();
  }

  private agentFor(key: string, identity: Identity, tunnel: string): TunnelAgent {
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new TunnelAgent(() => this.dialer.open(identity, tunnel), { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets, timeout: this.keepAliveMs, scheduling: 'lifo' });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private fetchH1(key: string, identity: Identity, tunnel: string, request: IngressRequest): Promise<IngressResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ agent: this.agentFor(key, identity, tunnel), method: request.method, path: request.path, headers: request.headers as http.OutgoingHttpHeaders, setHost: false });
      req.on('error', (err) => reject(originError(err)));
      req.on('response', (res) => {
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res, trailers: () => (res.complete && Object.keys(res.trailers).length > 0 ? res.trailers : undefined) });
      });
      if (request.body) {
        request.body.on('error', (err) => req.destroy(err));
        request.body.pipe(req);
      } else {
        req.end();
      }
    });
  }

  private sessionFor(key: string, identity: Identity, tunnel: string): Promise<http2.ClientHttp2Session> {
    let pending = this.sessions.get(key);
    if (!pending) {
      pending = this.dialer.open(identity, tunnel).then((socket) => {
        const session = http2.connect(`http://${tunnel}`, { createConnection: () => socket });
        const forget = (): void => {
          if (this.sessions.get(key) === pending) this.sessions.delete(key);
        };
        session.on('close', forget);
        session.on('goaway', forget);
        session.on('error', forget);
        return session;
      });
      pending.catch(() => {
        if (this.sessions.get(key) === pending) this.sessions.delete(key);
      });
      this.sessions.set(key, pending);
    }
    return pending;
  }

  private async fetchH2(key: string, identity: Identity, tunnel: string, request: IngressRequest): Promise<IngressResponse> {
    const session = await this.sessionFor(key, identity, tunnel);
    const headers: http2.OutgoingHttpHeaders = { ...(request.headers as http2.OutgoingHttpHeaders) };
    const authority = String(headers.host ?? tunnel);
    delete headers.host;
    headers[':method'] = request.method;
    headers[':path'] = request.path;
    headers[':authority'] = authority;
    headers[':scheme'] = 'http';
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: !request.body });
      } catch (err) {
        reject(originError(err));
        return;
      }
      let trailers: HeaderFields | undefined;
      stream.on('trailers', (t: http2.IncomingHttpHeaders) => {
        trailers = withoutPseudo(t);
      });
      stream.on('error', (err) => reject(originError(err)));
      stream.on('response', (h: http2.IncomingHttpHeaders, flags: number) => {
        const endedAtHeaders = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        resolve({ status: Number(h[':status'] ?? 502), headers: withoutPseudo(h), body: stream, trailers: () => trailers, endedAtHeaders });
      });
      if (request.body) {
        request.body.on('error', (err) => stream.destroy(err));
        request.body.pipe(stream);
      }
    });
  }
}

function withoutPseudo(headers: http2.IncomingHttpHeaders): HeaderFields {
  const out: HeaderFields = {};
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':')) out[name] = value;
  return out;
}
