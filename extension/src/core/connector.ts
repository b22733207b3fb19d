import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  assertTunnelName,
  checkResumableOptions,
  createError,
  debugLog,
  encodeOpenMetadata,
  ErrorCode,
  isTetherError,
  ResumableStream,
  streamOpened,
  type OpenTraceContext,
  type ByteStream,
  type ResumableOptions,
  type TetherError,
} from '@tether/shared';
import type { Tracer } from '@opentelemetry/api';
import { Backoff } from './backoff.js';
import { startConnectSpan } from './open-spans.js';
import { bridge } from './bridge.js';
import type { RelayEndpoint } from './endpoints.js';
import { poolTargets, type PoolTuning } from './pool-options.js';
import type { PoolState } from './pool-state.js';
import { RelayPool } from './relay-pool.js';
import { rttOf, type SessionRtt } from './session-rtt.js';
import { OpenHoldOff } from './open-hold-off.js';
import type { RelaySession, SessionFactory } from './relay-session.js';

export interface ConnectorOptions {
  /** Relays to use, in order of preference; default: the factory's own. */
  endpoints?: RelayEndpoint[];
  pool?: PoolTuning;
  /** Options of resumable streams, or false for plain streams that end with their relay. */
  resumable?: ResumableOptions | false;
  /** A `tether.connect.open` span per open, its context carried in the OPEN (docs/tracing.md); none: off. */
  tracer?: Tracer;
}

export interface ConnectorEvents {
  connection: [remote: string];
  connectionError: [remote: string, err: TetherError, tunnel: string];
  connectionClosed: [remote: string, err: TetherError | undefined, tunnel: string];
  listenError: [err: Error];
  /** A stream lost its relay path (it is being resumed elsewhere), or continued on a new one. */
  streamDetached: [tunnel: string, err: TetherError];
  streamResumed: [tunnel: string, attempt: number];
  state: [state: PoolState];
  /** One PING's round trip on the session to `relay` (what the diagnostics panel plots). */
  rtt: [relay: string, ms: number];
}

/** Where one open stream goes: for the diagnostics panel's paths. */
export interface StreamPath {
  tunnel: string;
  /** Where it came from: the listener's address ("127.0.0.1:2222"), or what the caller of open() named. */
  origin: string | undefined;
  /** URL of the relay it rides on now; undefined while it is being resumed. */
  relay: string | undefined;
  /** The relay node it rides on (a cluster's node id), when the relay said. */
  node?: string;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Opens streams to tunnels through a warm pool of relay sessions, and exposes them as a local
 * listener or on stdio. Streams are resumable: when the relay carrying one dies, stalls or
 * drains, the stream moves to another relay of the pool and carries on with no byte lost.
 * Used by `tether connect`/`tether proxy`/`tether ssh` and the VS Code extension alike.
 */
export class Connector extends EventEmitter<ConnectorEvents> {
  private readonly factory: SessionFactory;
  private readonly options: ConnectorOptions;
  private pool: RelayPool | undefined;
  private starting: Promise<RelayPool> | undefined;
  private closed = false;
  private readonly servers = new Set<net.Server>();
  private readonly streams = new Set<ResumableStream>();
  /** The session each resumable stream rides on now. */
  private readonly via = new Map<ResumableStream, RelaySession>();
  /** What each stream was opened for (see open()'s `origin`). */
  private readonly origins = new Map<ResumableStream, string>();
  private readonly watched = new WeakSet<RelaySession>();
  private readonly reattaching = new Set<ResumableStream>();
  private readonly holdOff = new OpenHoldOff();

  constructor(factory: SessionFactory, options: ConnectorOptions = {}) {
    super();
    if (options.resumable) checkResumableOptions(options.resumable);
    this.factory = factory;
    this.options = options;
  }

  /** Smoothed, last and lowest RTT of the session new streams go to (zeros until measured). */
  rtt(): SessionRtt {
    return rttOf(this.pool?.live()[0]?.session);
  }

  /** Round-trip time to the relay new streams go to, in ms (0 until measured). */
  get rttMs(): number {
    return this.pool?.live()[0]?.session.rttMs ?? 0;
  }

  /** Resumable streams open now (including ones waiting to be resumed). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Every open resumable stream, with the relay it rides on now. */
  paths(): StreamPath[] {
    return [...this.streams].map((stream) => {
      const on = this.via.get(stream);
      return {
        tunnel: stream.tunnel,
        origin: this.origins.get(stream),
        relay: on && !stream.detached ? this.pool?.endpointOf(on)?.url : undefined,
        ...(on?.node && !stream.detached ? { node: on.node } : {}),
        bytesIn: stream.bytesReceived,
        bytesOut: stream.bytesSent,
      };
    });
  }

  /** The pool's state, once it started. */
  state(): PoolState | undefined {
    return this.pool?.state();
  }

  /**
   * The session a new stream goes to, starting the pool first when needed. While no relay is
   * up the call waits in a bounded queue (QUEUE_FULL, NO_RELAY).
   */
  async session(): Promise<RelaySession> {
    const pool = await this.started();
    return pool.acquire();
  }

  /**
   * Opens a stream to `tunnel`; resolves once the host accepted it, rejects with a coded error.
   * `origin` names where it comes from in paths() (a listener's address, "SSH terminal").
   */
  async open(tunnel: string, origin?: string): Promise<ByteStream> {
    assertTunnelName(tunnel);
    // A relay that rate-limited opens to this tunnel is not asked again before it said.
    this.holdOff.check(tunnel);
    const tracer = this.options.tracer;
    if (!tracer) return this.openOnce(tunnel, undefined, origin);
    const span = startConnectSpan(tracer, tunnel, this.options.resumable !== false);
    try {
      const stream = await this.openOnce(tunnel, span.carried, origin);
      span.ok();
      return stream;
    } catch (err) {
      span.failed(isTetherError(err) ? err.code : 'TETHER_ERR_INTERNAL', isTetherError(err) ? err.wireCode : undefined);
      throw err;
    }
  }

  private async openOnce(tunnel: string, trace?: OpenTraceContext, origin?: string): Promise<ByteStream> {
    const relay = await this.session();
    try {
      if (this.options.resumable === false) return await streamOpened(relay.session.openStream(tunnel, trace && encodeOpenMetadata(trace)));
      const stream = ResumableStream.open(relay.session, tunnel, this.options.resumable, trace);
      // Tracked at once: a path lost in the same batch as OPEN_OK must already find our listeners.
      this.track(stream, relay);
      if (origin) this.origins.set(stream, origin);
      return await streamOpened(stream);
    } catch (err) {
      this.holdOff.failed(tunnel, err);
      throw err;
    }
  }

  /** Joins a new stream to `input`/`output` (stdio for ProxyCommand); resolves when it ends. */
  async pipe(tunnel: string, input: Readable, output: Writable): Promise<TetherError | undefined> {
    const stream = await this.open(tunnel);
    return bridge(stream, input, output);
  }

  /** Listens on host:port; each accepted connection gets its own stream to `tunnel`. */
  async listen(tunnel: string, host: string, port: number): Promise<net.Server> {
    assertTunnelName(tunnel);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.on('error', () => undefined); // reported through the bridge
      socket.pause();
      this.emit('connection', remote);
      const local = server.address();
      this.open(tunnel, typeof local === 'object' && local ? `${local.address}:${local.port}` : undefined).then(
        async (stream) => {
          socket.resume();
          const err = await bridge(stream, socket, socket);
          this.emit('connectionClosed', remote, err, tunnel);
        },
        (err: TetherError) => {
          socket.destroy();
          this.emit('connectionError', remote, err, tunnel);
        },
      );
    });
    this.servers.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.servers.delete(server);
        if (err.code === 'EADDRINUSE') {
          reject(createError(ErrorCode.ADDRESS_IN_USE, `port ${port} on ${host} is already in use: stop the other process, or pick another port`));
          return;
        }
        const why = err.code === 'EACCES' ? `permission denied (ports below 1024 need privileges; pick a higher one)` : err.message;
        reject(createError(ErrorCode.INVALID_ARGUMENT, `cannot listen on ${host}:${port}: ${why}`));
      });
      server.listen(port, host, () => {
        // Errors after listening (EMFILE on accept, say) must not crash the process.
        server.on('error', (err) => this.emit('listenError', err));
        resolve(server);
      });
    });
  }

  /** Closes listeners, streams and the relay sessions. */
  close(): void {
    this.closed = true;
    for (const server of this.servers) server.close();
    this.servers.clear();
    for (const stream of this.streams) stream.reset();
    this.pool?.close();
  }

  // --- the pool -------------------------------------------------------------------------------

  /** The started pool. A pool whose first attempts all failed is dropped, so the next call tries afresh. */
  private started(): Promise<RelayPool> {
    if (this.closed) return Promise.reject(createError(ErrorCode.CANCELLED, 'connector is closed'));
    if (this.pool) return Promise.resolve(this.pool);
    this.starting ??= (async () => {
      const pool = new RelayPool({ kind: 'connect', ...poolTargets(this.factory, this.options.endpoints), ...this.options.pool });
      pool.on('state', (state) => {
        this.emit('state', state);
        // A detached stream waiting for a relay checks again: one may have refused us for good.
        this.retryDetached();
      });
      pool.on('session', (relay, endpoint) => {
        relay.session.on('rtt', (ms) => this.emit('rtt', endpoint.url, ms));
        this.retryDetached();
        this.moveOffDraining();
      });
      try {
        await pool.start();
      } catch (err) {
        this.starting = undefined;
        throw err;
      }
      this.starting = undefined;
      if (this.closed) {
        pool.close();
        throw createError(ErrorCode.CANCELLED, 'connector is closed');
      }
      this.pool = pool;
      return pool;
    })();
    return this.starting;
  }

  // --- resumable streams ----------------------------------------------------------------------

  private track(stream: ResumableStream, relay: RelaySession): void {
    this.streams.add(stream);
    this.via.set(stream, relay);
    this.watch(relay);
    stream.on('detached', (err) => {
      this.via.delete(stream);
      this.emit('streamDetached', stream.tunnel, err);
      void this.reattach(stream);
    });
    stream.on('resumed', (attempt) => this.emit('streamResumed', stream.tunnel, attempt));
    stream.once('close', () => {
      this.streams.delete(stream);
      this.via.delete(stream);
      this.origins.delete(stream);
      this.reattaching.delete(stream);
    });
  }

  /** A relay that announces GOAWAY is draining: move our streams off it. */
  private watch(relay: RelaySession): void {
    if (this.watched.has(relay)) return;
    this.watched.add(relay);
    relay.session.on('goaway', () => this.moveOffDraining());
  }

  /**
   * Moves streams riding on draining sessions to a healthy one. The move is make-before-break:
   * a stream leaves its draining relay only once another has taken it; if none can (the host is
   * not registered anywhere else, say), it finishes where it is, as the relay lets it drain.
   */
  private moveOffDraining(): void {
    for (const [stream, on] of [...this.via]) {
      if (on.session.remoteGoAway && !stream.detached) void this.reattach(stream);
    }
  }

  private readonly wakeups = new Set<() => void>();

  private retryDetached(): void {
    for (const wake of [...this.wakeups]) wake();
  }

  /**
   * Resumes a detached stream through the pool's sessions, best first, until one takes it, the
   * far end refuses it (the stream then closes with the code) or its resume timeout ends it.
   */
  private async reattach(stream: ResumableStream): Promise<void> {
    const trace = (message: string, fields: Record<string, unknown> = {}): void => debugLog(`connector ${stream.key.slice(0, 8)}`, message, fields);
    if (this.reattaching.has(stream)) {
      trace('reattach: one is under way already', { detached: stream.detached });
      return;
    }
    trace('reattach: start', { detached: stream.detached, live: this.pool?.live().length ?? 0 });
    this.reattaching.add(stream);
    const backoff = new Backoff(50, 1000);
    // Detached: resume until one relay takes it. Attached to a draining relay: one round of
    // moves, and if no relay takes it, it stays where it is.
    const needed = (): boolean => stream.state !== 'closed' && (stream.detached || this.via.get(stream)?.session.remoteGoAway !== undefined);
    try {
      while (needed() && !this.closed) {
        const moving = !stream.detached;
        for (const relay of this.pool?.live() ?? []) {
          if (!needed()) return;
          if (relay.session.closed || relay.session.remoteGoAway || relay === this.via.get(stream)) continue;
          try {
            trace('reattach: trying', { relay: this.pool?.endpointOf(relay)?.url ?? "?", moving });
            await stream.resume(relay.session);
            trace('reattach: taken', { relay: this.pool?.endpointOf(relay)?.url ?? "?", state: stream.state });
            if (stream.state === 'closed') return;
            this.via.set(stream, relay);
            this.watch(relay);
          } catch (err) {
            trace('reattach: failed', { relay: this.pool?.endpointOf(relay)?.url ?? "?", err: err as Error, state: stream.state, detached: stream.detached });
            if (stream.state === 'closed') return;
          }
        }
        if (!needed() || (moving && !stream.detached)) {
          trace('reattach: round over', { needed: needed(), detached: stream.detached });
          return;
        }
        const refused = stream.detached ? this.pool?.refusedEverywhere() : undefined;
        if (refused) {
          trace('reattach: every relay refuses us', { code: refused.code });
          stream.abort(refused);
          return;
        }
        trace('reattach: nothing took it, waiting');
        // Nothing took it: wait for a new session or a short, growing delay.
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.wakeups.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, backoff.next());
          this.wakeups.add(wake);
        });
      }
    } finally {
      trace('reattach: end', { state: stream.state, detached: stream.detached });
      this.reattaching.delete(stream);
    }
  }
}

