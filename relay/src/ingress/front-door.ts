import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** The HTTP/2 client connection preface (RFC 9113 §3.4): how h2c with prior knowledge starts. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface FrontDoorTls {
  cert: Buffer | string;
  key: Buffer | string;
}

export interface FrontDoorOptions {
  /** TLS with ALPN (h2, http/1.1); without it, HTTP/1.1 and h2c with prior knowledge. */
  tls?: FrontDoorTls;
  /** Largest request header section (bytes); a larger one is refused with 431. */
  maxHeaderSize?: number;
  /** A cleartext connection that sends nothing for this long is closed. */
  firstBytesTimeoutMs?: number;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/** Who takes requests (and upgrades) before the relay's own routes: the HTTP ingress, for its hosts. */
export interface FrontDoorTaker {
  /** True when it took the request (it answers it). */
  request(req: AnyRequest, res: AnyResponse): boolean;
  /** True when it took the upgrade. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/**
 * The relay's listening server, built for Fastify (its `serverFactory`): HTTP/1.1, and HTTP/2 by
 * ALPN with TLS or by its preface without. Each request goes to the taker first (the HTTP
 * ingress, for NAME.DOMAIN hosts), then to Fastify; h2 requests reach Fastify through Node's
 * compatibility API. Without a taker and without TLS it is a plain http.Server.
 */
export class FrontDoor {
  readonly server: http.Server | https.Server;
  private taker: FrontDoorTaker | undefined;
  private readonly h2: http2.Http2Server;

  constructor(handler: (req: AnyRequest, res: AnyResponse) => void, private readonly options: FrontDoorOptions = {}) {
    const route = (req: AnyRequest, res: AnyResponse): void => {
      if (this.taker?.request(req, res)) return;
      handler(req, res);
    };
    const maxHeaderSize = options.maxHeaderSize;
    this.server = options.tls
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ['h2', 'http/1.1'], ...(maxHeaderSize ? { maxHeaderSize } : {}) }, route)
      : http.createServer(maxHeaderSize ? { maxHeaderSize } : {}, route);
    this.h2 = http2.createServer({ maxSessionMemory: 32, ...(maxHeaderSize ? { maxHeaderListSize: maxHeaderSize } : {}) });
    this.h2.on('request', route);
    this.h2.on('sessionError', () => undefined);
    this.h2.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
  }

  private readonly sessions = new Set<http2.ServerHttp2Session>();

  /**
   * Lets `taker` see every request first (the HTTP ingress), and turns on HTTP/2: h2c with prior
   * knowledge on a cleartext port, h2 by ALPN with TLS. Called once the relay's own upgrade
   * listener (its WebSocket endpoints) is in place.
   */
  use(taker?: FrontDoorTaker): void {
    this.taker = taker;
    const server = this.server;
    const event = this.options.tls ? 'secureConnection' : 'connection';
    const http1 = server.listeners(event) as ((socket: Socket) => void)[];
    server.removeAllListeners(event);
    const toHttp1 = (socket: Socket): void => {
      for (const listener of http1) listener.call(server, socket);
    };
    if (this.options.tls) {
      server.on('secureConnection', (socket: TLSSocket) => {
        if (socket.alpnProtocol === 'h2') this.h2.emit('connection', socket);
        else toHttp1(socket);
      });
    } else {
      server.on('connection', (socket: Socket) => this.sniff(socket, toHttp1));
    }
    // Upgrades for the taker's hosts go to it; the rest to the relay's own (its WebSocket endpoints).
    const upgrades = server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.taker?.upgrade(req, socket, head)) return;
      for (const listener of upgrades) listener.call(server, req, socket, head);
    });
  }

  /**
   * Ends the HTTP/2 sessions (the server's close waits for their sockets): GOAWAY first, so
   * streams under way may finish, then they are dropped after `graceMs`.
   */
  closeSessions(graceMs = 1000): void {
    for (const session of this.sessions) {
      session.close();
      setTimeout(() => session.destroy(), graceMs).unref();
    }
  }

  close(): void {
    this.closeSessions(0);
    this.h2.close();
  }

  /** Reads the first bytes of a cleartext connection: the h2 preface goes to h2, anything else to HTTP/1.1. */
  private sniff(socket: Socket, toHttp1: (socket: Socket) => void): void {
    let seen: Buffer = Buffer.alloc(0);
    // A connection that says nothing is dropped (HTTP's own timeouts start after this).
    socket.setTimeout(this.options.firstBytesTimeoutMs ?? 10_000, () => socket.destroy());
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const maybeH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (maybeH2 && seen.length < PREFACE.length) return;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (maybeH2) {
        this.h2.emit('connection', socket);
      } else {
        toHttp1(socket);
        socket.resume();
      }
    };
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', onError);
  }
}
