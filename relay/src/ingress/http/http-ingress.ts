import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { checkTunnelName, createError, ErrorCode, isTetherError, type TetherError, type TunnelSettings } from '@tether/shared';
import type { TunnelRegistry } from '../../ports/tunnel-registry.js';
import type { Identity } from '../../identity.js';
import type { TunnelDialer } from '../tunnel-dialer.js';
import { clientResponseHeaders, originRequestHeaders, SESSION_COOKIE, type ClientFacts } from './forward-headers.js';
import type { IngressAccess } from './ingress-access.js';
import { errorBody, ingressStatus, signInPage, wantsHtml } from './ingress-pages.js';
import type { HeaderFields, IngressRequest, IngressResponse, OriginFetch } from './ingress-types.js';
import { originError, type OriginClient } from './origin-client.js';
import { readForm } from './read-form.js';
import { wholeBody } from './body-tee.js';

type ClientRequest = IncomingMessage | Http2ServerRequest;
type ClientResponse = ServerResponse | Http2ServerResponse;

/** What lies between the client and the origin for one tunnel (cache, compression); none: straight through. */
export type ResponseLayers = (tunnel: string, settings: TunnelSettings, request: IngressRequest, origin: OriginFetch) => Promise<IngressResponse>;

export interface HttpIngressOptions {
  /** Tunnels are reached at NAME.DOMAIN. */
  domain: string;
  registry: TunnelRegistry;
  /** Whether a tunnel name is claimed (for "offline" versus "no such tunnel"). */
  tunnelExists: (name: string) => Promise<boolean>;
  access: IngressAccess;
  dialer: TunnelDialer;
  origin: OriginClient;
  layers?: ResponseLayers;
  /**
   * May this user connect to the tunnel (the policy's decision, audited)? Asked for each request
   * of a user, since a cached answer opens no stream for the router to decide on.
   */
  authorize?: (identity: Identity, tunnel: string) => Promise<TetherError | undefined>;
  log: FastifyBaseLogger;
  /** The relay listens with TLS (cookies are Secure, X-Forwarded-Proto is https). */
  secure: boolean;
  /** Told of every answered request (metrics). */
  observe?: (tunnel: string, status: number, result: string) => void;
}

/** Paths of the relay itself under a tunnel's host (sign-in); never forwarded. */
const RELAY_PREFIX = '/.tether/';
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);

/**
 * The HTTP ingress (docs/http.md): requests to NAME.DOMAIN go to the service behind tunnel NAME,
 * over streams the relay opens through its router as the visitor's identity, so access control,
 * rate limits, audit and tracing apply as to any stream. Bodies stream both ways with
 * backpressure (tunnel credit); WebSocket upgrades are carried as raw streams.
 */
export class HttpIngress {
  private readonly suffix: string;

  constructor(private readonly options: HttpIngressOptions) {
    this.suffix = `.${options.domain.toLowerCase().replace(/^\.+|\.+$/g, '')}`;
  }

  /** The tunnel a Host (or :authority) names, or undefined when it is not one of this ingress's. */
  tunnelOf(host: string | undefined): string | undefined {
    if (!host || host.length > 300) return undefined;
    const name = host.toLowerCase().replace(/:\d{1,5}$/, '').replace(/\.$/, '');
    if (!name.endsWith(this.suffix)) return undefined;
    // Any name under the domain is the ingress's to answer: one that is no tunnel name
    // (a.b.DOMAIN) is told so by handle().
    const label = name.slice(0, -this.suffix.length);
    return label || undefined;
  }

  async handle(req: ClientRequest, res: ClientResponse, tunnel: string): Promise<void> {
    const html = wantsHtml(req.headers);
    try {
      const invalid = checkTunnelName(tunnel);
      if (invalid) throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel named ${tunnel.slice(0, 64)}`);
      const settings = await this.settingsOf(tunnel);
      const path = req.url ?? '/';
      if (path.startsWith(RELAY_PREFIX)) return await this.relayPage(req, res, tunnel, settings, path);
      const decided = await this.options.access.decide(tunnel, settings, req.headers, req.socket.remoteAddress);
      if (!decided.allowed) return this.refuseAccess(req, res, tunnel, decided.error, html);
      if (!decided.identity.visitor) {
        const refused = await this.options.authorize?.(decided.identity, tunnel);
        if (refused) throw refused;
      }
      await this.forward(req, res, tunnel, settings, decided.identity, decided.usedAuthorization);
    } catch (err) {
      this.fail(res, tunnel, err, html);
    }
  }

  /** A WebSocket (or other) upgrade: carried as a raw stream once access is decided. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, tunnel: string): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const invalid = checkTunnelName(tunnel);
      if (invalid) throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel named ${tunnel.slice(0, 64)}`);
      const settings = await this.settingsOf(tunnel);
      const decided = await this.options.access.decide(tunnel, settings, req.headers, req.socket.remoteAddress);
      if (!decided.allowed) throw decided.error;
      const stream = await this.options.dialer.open(decided.identity, tunnel);
      const headers = originRequestHeaders(req.headers, this.facts(req), { stripAuthorization: decided.usedAuthorization });
      headers.connection = 'Upgrade';
      headers.upgrade = req.headers.upgrade;
      stream.write(requestHead(req.method ?? 'GET', req.url ?? '/', headers));
      if (head.length > 0) stream.write(head);
      stream.on('error', () => socket.destroy());
      socket.on('close', () => stream.destroy());
      stream.on('close', () => socket.destroy());
      socket.pipe(stream).pipe(socket);
      this.options.observe?.(tunnel, 101, 'upgrade');
    } catch (err) {
      const error = isTetherError(err) ? err : originError(err);
      const status = ingressStatus(error);
      const { type, body } = errorBody(error, false);
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${error.code}\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      this.options.observe?.(tunnel, status, 'error');
    }
  }

  private async settingsOf(tunnel: string): Promise<TunnelSettings> {
    const leases = await this.options.registry.lookup(tunnel);
    if (leases.length === 0) {
      if (await this.options.tunnelExists(tunnel)) throw createError(ErrorCode.TUNNEL_OFFLINE, `tunnel ${tunnel} is not being shared right now; try again once its host is back`);
      throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel named ${tunnel}`);
    }
    const settings = leases.find((l) => l.settings?.http)?.settings;
    if (!settings) throw createError(ErrorCode.TUNNEL_UNKNOWN, `tunnel ${tunnel} is not shared over HTTP (its host can share it with --http)`);
    return settings;
  }

  private facts(req: ClientRequest): ClientFacts {
    const host = String(req.headers[':authority'] ?? req.headers.host ?? '');
    return { address: req.socket.remoteAddress ?? 'unknown', proto: this.options.secure ? 'https' : 'http', host };
  }

  private async forward(req: ClientRequest, res: ClientResponse, tunnel: string, settings: TunnelSettings, identity: Identity, usedAuthorization: boolean): Promise<void> {
    const method = req.method ?? 'GET';
    const h2Origin = settings.http === 'h2c';
    const headers = originRequestHeaders(req.headers, this.facts(req), { stripAuthorization: usedAuthorization, keepTe: h2Origin });
    const hasBody = !BODYLESS.has(method) || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const request: IngressRequest = { method, path: req.url ?? '/', headers, body: hasBody ? req : undefined };
    const origin: OriginFetch = (r) => this.options.origin.fetch(identity, tunnel, settings.http ?? 'http1', r);
    const response = this.options.layers ? await this.options.layers(tunnel, settings, request, origin) : await origin(request);
    const out = clientResponseHeaders(response.headers);
    // The client went away before the answer: the origin's body is not read any further.
    if (res.destroyed || res.writableEnded) {
      response.body.destroy();
      return;
    }
    if (response.endedAtHeaders) return this.headersOnly(res, tunnel, response, out);
    res.writeHead(response.status, out as Record<string, string | string[]>);
    const body = response.body;
    // A small body in memory (a cache hit) goes out with the header section in one write.
    const whole = wholeBody(body);
    if (whole) {
      body.destroy();
      res.end(whole);
      this.options.observe?.(tunnel, response.status, 'hit');
      return;
    }
    // A body that is still to come (a stream of events, a slow answer): the client gets the
    // header section now. One already here goes out with it in one write (HTTP/1.1 sends the
    // header section with the first piece of the body; h2 sent it in writeHead).
    if (body.readableLength === 0 && 'flushHeaders' in res) res.flushHeaders();
    body.on('end', () => {
      const trailers = response.trailers?.();
      if (trailers && !res.writableEnded) res.addTrailers(trailers);
    });
    body.on('error', (err) => {
      this.options.log.debug({ tunnel, err: err.message }, 'origin body failed');
      res.destroy();
    });
    res.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(res as NodeJS.WritableStream);
    this.options.observe?.(tunnel, response.status, String(response.headers['cache-status'] ?? '').includes('hit') ? 'hit' : 'forwarded');
  }

  /**
   * An answer that ended with its header section goes on the same way: set, then end, so h2
   * sends one HEADERS frame with END_STREAM. (writeHead sends the header section at once and the
   * end as a frame of its own; a gRPC client then finds a failed call's grpc-status in headers
   * that did not end the stream, and reports INTERNAL instead of the status.)
   */
  private headersOnly(res: ClientResponse, tunnel: string, response: IngressResponse, out: HeaderFields): void {
    for (const [name, value] of Object.entries(out)) if (value !== undefined) res.setHeader(name, value);
    res.statusCode = response.status;
    res.end();
    response.body.resume();
    this.options.observe?.(tunnel, response.status, 'forwarded');
  }

  private refuseAccess(req: ClientRequest, res: ClientResponse, tunnel: string, error: TetherError, html: boolean): void {
    const method = req.method ?? 'GET';
    if (error.code !== ErrorCode.UNAUTHORIZED) return this.fail(res, tunnel, error, html);
    if (html && (method === 'GET' || method === 'HEAD')) {
      const next = encodeURIComponent(req.url ?? '/');
      res.writeHead(302, { location: `/.tether/sign-in?next=${next}`, 'cache-control': 'no-store' });
      res.end();
      this.options.observe?.(tunnel, 302, 'sign-in');
      return;
    }
    res.setHeader('www-authenticate', `Bearer realm="tether", error="invalid_token"`);
    this.fail(res, tunnel, error, html);
  }

  /** `/.tether/sign-in` (GET: the form; POST: the session cookie) and `/.tether/sign-out`. */
  private async relayPage(req: ClientRequest, res: ClientResponse, tunnel: string, settings: TunnelSettings, path: string): Promise<void> {
    const url = new URL(path, 'http://relay');
    const access = settings.access ?? 'private';
    const secure = this.options.secure ? '; Secure' : '';
    if (url.pathname === '/.tether/sign-out') {
      res.writeHead(303, { location: '/', 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (url.pathname !== '/.tether/sign-in' || access === 'public') throw createError(ErrorCode.NOT_FOUND, `no page ${url.pathname.slice(0, 64)} here`);
    const html = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'" });
      res.end(body);
    };
    if (req.method === 'GET' || req.method === 'HEAD') return html(200, signInPage(tunnel, access, safeNext(url.searchParams.get('next'))));
    if (req.method !== 'POST') throw createError(ErrorCode.INVALID_ARGUMENT, 'sign in with GET (the form) or POST (the token)');
    const form = await readForm(req, 4096);
    const next = safeNext(form.get('next'));
    const token = form.get('token') ?? '';
    const outcome = token ? await this.options.access.signIn(tunnel, settings, token, req.socket.remoteAddress) : { error: createError(ErrorCode.UNAUTHORIZED, 'enter a token') };
    if ('error' in outcome) return html(outcome.error.code === ErrorCode.RATE_LIMITED ? 429 : 401, signInPage(tunnel, access, next, outcome.error.message));
    const maxAge = Math.floor(this.options.access.sessionTtlMs / 1000);
    res.writeHead(303, { location: next, 'set-cookie': `${SESSION_COOKIE}=${outcome.cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`, 'cache-control': 'no-store' });
    res.end();
    this.options.observe?.(tunnel, 303, 'sign-in');
  }

  private fail(res: ClientResponse, tunnel: string, err: unknown, html: boolean): void {
    const error = isTetherError(err) ? err : originError(err);
    const status = ingressStatus(error);
    if (!isTetherError(err)) this.options.log.warn({ tunnel, err: (err as Error).message }, 'http ingress request failed');
    this.options.observe?.(tunnel, status, 'error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { type, body } = errorBody(error, html);
    const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-store', 'x-tether-error': error.code };
    if (error.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    res.writeHead(status, headers);
    res.end(body);
  }
}

/** A relative path to go back to after signing in ("/" for anything that could leave the site). */
function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.length > 2000) return '/';
  return next;
}

/** An HTTP/1.1 request head for the origin of an upgrade. */
function requestHead(method: string, path: string, headers: HeaderFields): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v.replace(/[\r\n]/g, '')}\r\n`;
  }
  return `${head}\r\n`;
}

