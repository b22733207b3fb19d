import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  assertTunnelName,
  createError,
  ErrorCode,
  WireCode,
  type MuxStream,
  type TetherError,
} from '@tether/shared';
import { Backoff } from './backoff.js';
import { bridge } from './bridge.js';
import type { RelaySession, SessionFactory } from './relay-session.js';

export interface HostAgentOptions {
  tunnel: string;
  target: { host: string; port: number };
  factory: SessionFactory;
  /** Time to connect to the target before refusing the stream. */
  connectTimeoutMs?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** A link that stayed up this long resets the backoff. */
  stableAfterMs?: number;
}

export interface HostAgentEvents {
  ready: [];
  disconnected: [err: TetherError, retryInMs: number | undefined];
  stream: [id: number];
  streamClosed: [id: number, err: TetherError | undefined];
  error: [err: TetherError];
}

/**
 * Shares a local TCP service as a tunnel: keeps a session to the relay and, for each stream
 * the relay opens, connects to the target and joins the two. Used by `tether share` and by the
 * VS Code extension alike.
 */
export class HostAgent extends EventEmitter<HostAgentEvents> {
  readonly options: Required<HostAgentOptions>;
  private current: RelaySession | undefined;
  private stopped = false;
  private readonly backoff = new Backoff();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<net.Socket>();
  streamsServed = 0;

  constructor(options: HostAgentOptions) {
    super();
    assertTunnelName(options.tunnel);
    const { host, port } = options.target;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `invalid target ${host}:${port}: need a host and a port from 1 to 65535`);
    }
    this.options = { connectTimeoutMs: 10_000, reconnect: true, stableAfterMs: 30_000, ...options };
  }

  get activeStreams(): number {
    return this.current?.session.streamCount ?? 0;
  }

  get rttMs(): number {
    return this.current?.session.rttMs ?? 0;
  }

  /** Registers the tunnel; rejects with the relay's coded error if the first attempt fails. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Tells the relay we are leaving, lets open streams finish (bounded), then disconnects. */
  async stop(drainMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const current = this.current;
    if (!current) return;
    current.session.goAway(WireCode.GOING_AWAY, 'host is stopping');
    const deadline = Date.now() + drainMs;
    while (current.session.streamCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const socket of this.sockets) socket.destroy();
    current.close();
  }

  private async connect(): Promise<void> {
    const relay = await this.options.factory('host', this.options.tunnel);
    if (this.stopped) {
      relay.close();
      return;
    }
    this.current = relay;
    const upSince = Date.now();
    relay.session.on('stream', (stream) => this.serve(stream));
    this.emit('ready');
    void relay.closed.then((err) => {
      if (this.current === relay) this.current = undefined;
      if (this.stopped || !err) return;
      if (Date.now() - upSince > this.options.stableAfterMs) this.backoff.reset();
      this.scheduleReconnect(err);
    });
  }

  private scheduleReconnect(err: TetherError): void {
    if (!this.options.reconnect || this.stopped) {
      this.emit('disconnected', err, undefined);
      return;
    }
    const delay = this.backoff.next();
    this.emit('disconnected', err, delay);
    this.retryTimer = setTimeout(() => {
      this.connect().catch((e: TetherError) => {
        // A refused token or a name taken for good will not fix itself; anything else is retried.
        if (e.retryable || e.code === ErrorCode.TUNNEL_IN_USE) this.scheduleReconnect(e);
        else {
          this.stopped = true;
          this.emit('error', e);
        }
      });
    }, delay);
  }

  private serve(stream: MuxStream): void {
    const { host, port } = this.options.target;
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    this.sockets.add(socket);
    this.streamsServed++;
    this.emit('stream', stream.id);
    const timer = setTimeout(() => {
      socket.destroy();
      if (stream.state === 'pending') stream.reject(WireCode.TARGET_UNREACHABLE, `target ${host}:${port} did not answer within ${this.options.connectTimeoutMs} ms`);
    }, this.options.connectTimeoutMs);
    stream.once('close', (err) => {
      clearTimeout(timer);
      if (socket.connecting) socket.destroy();
      this.emit('streamClosed', stream.id, err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      if (stream.state !== 'pending') {
        socket.destroy();
        return;
      }
      stream.accept();
      void bridge(stream, socket, socket);
    });
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (stream.state !== 'pending') return; // the bridge reports errors after the connect
      clearTimeout(timer);
      const refused = err.code === 'ECONNREFUSED';
      stream.reject(
        refused ? WireCode.TARGET_REFUSED : WireCode.TARGET_UNREACHABLE,
        `target ${host}:${port} ${refused ? 'refused the connection' : `unreachable (${err.code ?? err.message})`}`,
      );
    });
  }
}

