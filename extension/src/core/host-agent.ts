import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  assertTunnelName,
  checkResumableOptions,
  createError,
  debugLog,
  decodeOpenMetadata,
  ErrorCode,
  HOST_RESUME_TIMEOUT_MS,
  isRefusal,
  isTetherError,
  readTraceContext,
  ResumableStream,
  WireCode,
  type MuxSession,
  type MuxStream,
  type OpenRequest,
  type ResumableOptions,
  type StreamHello,
  type TetherError,
} from '@tether/shared';
import type { Tracer } from '@opentelemetry/api';
import { bridge } from './bridge.js';
import { startAcceptSpan } from './open-spans.js';
import type { RelayEndpoint } from './endpoints.js';
import { PoolDefaults } from './pool-defaults.js';
import { rttOf, type SessionRtt } from './session-rtt.js';
import { poolTargets, type PoolTuning } from './pool-options.js';
import type { PoolState } from './pool-state.js';
import { RelayPool } from './relay-pool.js';
import type { RelaySession, SessionFactory } from './relay-session.js';
import { UdpTarget, type UdpTargetOptions } from './udp-target.js';


export interface HostAgentOptions {
  tunnel: string;
  target: { host: string; port: number };
  factory: SessionFactory;
  /** Relays to register with (all at once, up to the pool size); default: the factory's own. */
  endpoints?: RelayEndpoint[];
  pool?: PoolTuning;
  resumable?: ResumableOptions;
  /** Time to connect to the target before refusing the stream. */
  connectTimeoutMs?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** A link that stayed up this long resets the backoff. */
  stableAfterMs?: number;
  /** A `tether.host.accept` span per stream, continuing the opener's trace (docs/tracing.md); none: off. */
  tracer?: Tracer;
  /** A UDP service (docs/udp.md): each stream is a flow of datagrams to the target; true for the defaults. */
  udp?: boolean | Pick<UdpTargetOptions, 'idleTimeoutMs' | 'maxDatagramSize'>;
}

export interface HostAgentEvents {
  /** Registered with a relay; for an HTTP tunnel, with the URL that relay serves it at. */
  ready: [publicUrl?: string];
  /** One PING's round trip on the session to `relay` (what the diagnostics panel plots). */
  rtt: [relay: string, ms: number];
  disconnected: [err: TetherError, retryInMs: number | undefined];
  stream: [id: number];
  /** The target accepted the connection of a new stream. */
  targetConnected: [id: number];
  streamClosed: [id: number, err: TetherError | undefined];
  /** A stream lost its relay path, or continued on a new one. */
  streamDetached: [id: string, err: TetherError];
  streamResumed: [id: string];
  state: [state: PoolState];
  error: [err: TetherError];
}

/**
 * Shares a local TCP service as a tunnel: stays registered with several relays at once and,
 * for each stream a relay opens, connects to the target and joins the two. Resumable streams
 * outlive the relay they arrived through: the connector resumes them through any other relay
 * this host is registered with. Used by `tether share` and by the VS Code extension alike.
 */
export class HostAgent extends EventEmitter<HostAgentEvents> {
  readonly options: Required<Omit<HostAgentOptions, 'endpoints' | 'pool' | 'resumable' | 'tracer' | 'udp'>> & Pick<HostAgentOptions, 'pool' | 'resumable' | 'tracer'>;
  /** Serves the flows of a UDP service (`udp` option); undefined for a TCP one. */
  readonly udp: UdpTarget | undefined;
  private readonly pool: RelayPool;
  private stopped = false;
  private readonly sockets = new Set<net.Socket>();
  /** Resumable streams by id, kept for resumeTimeoutMs after they close to answer late resumes. */
  private readonly resumable = new Map<string, ResumableStream>();
  private plainStreams = 0;
  streamsServed = 0;

  constructor(options: HostAgentOptions) {
    super();
    assertTunnelName(options.tunnel);
    const { host, port } = options.target;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `invalid target ${host}:${port}: need a host and a port from 1 to 65535`);
    }
    if (options.resumable) checkResumableOptions(options.resumable);
    this.options = { connectTimeoutMs: 10_000, reconnect: true, stableAfterMs: PoolDefaults.stableAfterMs, ...options };
    if (options.udp) {
      this.udp = new UdpTarget({ target: options.target, tunnel: options.tunnel, ...(options.udp === true ? {} : options.udp) });
      this.udp.on('flowClosed', (id, err) => this.emit('streamClosed', id, err));
    }
    this.pool = new RelayPool({
      kind: 'host',
      tunnel: options.tunnel,
      ...poolTargets(options.factory, options.endpoints),
      stableAfterMs: this.options.stableAfterMs,
      ...options.pool,
    });
    this.pool.on('session', (relay, endpoint) => {
      relay.session.on('rtt', (ms) => this.emit('rtt', endpoint.url, ms));
      this.onSession(relay);
    });
    this.pool.on('lost', (relay, endpoint, err) => this.onLost(endpoint, err));
    this.pool.on('state', (state) => this.onState(state));
  }

  /** Streams being served (a resumable one waiting for its resume counts). */
  /** Streams waiting for their far end to resume them through another relay. */
  get resumingStreams(): number {
    let n = 0;
    for (const stream of this.resumable.values()) if (stream.state !== 'closed' && stream.detached) n++;
    return n;
  }

  get activeStreams(): number {
    let n = this.plainStreams + (this.udp?.activeFlows ?? 0);
    for (const stream of this.resumable.values()) if (stream.state !== 'closed') n++;
    return n;
  }

  /** Smoothed, last and lowest RTT of the session new streams go to (zeros until measured). */
  rtt(): SessionRtt {
    return rttOf(this.pool.live()[0]?.session);
  }

  /** Round-trip time to the relay new streams prefer, in ms (0 until measured). */
  get rttMs(): number {
    return this.pool.live()[0]?.session.rttMs ?? 0;
  }

  /** Where the agent is registered and how each relay is doing. */
  state(): PoolState {
    return this.pool.state();
  }

  /** Registers the tunnel; rejects with the relay's coded error if every first attempt fails. */
  async start(): Promise<void> {
    await this.pool.start();
    this.running = true;
  }

  private running = false;

  /** Tells the relays we are leaving, lets open streams finish (bounded), then disconnects. */
  async stop(drainMs = 5000): Promise<void> {
    this.stopped = true;
    // UDP flows have nothing to finish (datagrams are not replayed): they end first, while the
    // relays still carry their RESETs.
    this.udp?.close();
    const sessions = this.pool.live();
    for (const relay of sessions) relay.session.goAway(WireCode.GOING_AWAY, 'host is stopping');
    const deadline = Date.now() + drainMs;
    // Streams waiting for a resume cannot get one now that the relays were told we leave.
    const live = (): number => this.plainStreams + [...this.resumable.values()].filter((s) => s.state !== 'closed' && !s.detached).length;
    while (live() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // A final code: GOING_AWAY would read as a lost path, and the connector would try to resume.
    for (const stream of this.resumable.values()) stream.reset(WireCode.CANCELLED, 'host is stopping');
    for (const socket of this.sockets) socket.destroy();
    this.pool.close();
  }

  private onSession(relay: RelaySession): void {
    relay.session.on('stream', (stream, request) => this.serve(stream, request, relay.session));
    this.emit('ready', relay.publicUrl);
  }

  private onLost(endpoint: RelayEndpoint, err: TetherError | undefined): void {
    if (this.stopped || !err) return;
    if (!this.options.reconnect) {
      this.stopped = true;
      this.pool.close();
      this.emit('disconnected', err, undefined);
      return;
    }
    // The pool schedules the retry right after it reports the loss.
    queueMicrotask(() => {
      const status = this.pool.state().endpoints.find((e) => e.url === endpoint.url);
      this.emit('disconnected', err, status?.retryInMs ?? 0);
    });
  }

  private onState(state: PoolState): void {
    this.emit('state', state);
    // Every relay refused us for a reason retrying cannot fix (a revoked token, say; see
    // error-class.ts in shared): give up.
    // (Before start() resolved, start() itself rejects with that error.)
    const refused = state.endpoints.filter((e) => isRefusal(e.lastError));
    if (this.running && !this.stopped && state.live === 0 && refused.length === state.endpoints.length) {
      const last = refused[0].lastError!;
      this.stopped = true;
      this.pool.close();
      this.emit('error', createError(last.code as TetherError['code'], last.message));
    }
  }

  private serve(stream: MuxStream, request: OpenRequest, session: MuxSession): void {
    if (this.options.tracer) this.traceAccept(this.options.tracer, stream, request);
    if (this.udp) {
      // A flow is never resumable (datagrams are not replayed): any hello is ignored.
      this.streamsServed++;
      this.emit('stream', stream.id);
      this.udp.serve(session, stream);
      return;
    }
    let hello: StreamHello | undefined;
    try {
      hello = decodeOpenMetadata(request.metadata).hello;
    } catch (err) {
      // decodeOpenMetadata throws nothing but coded errors (FRAME_INVALID).
      stream.reject(isTetherError(err) ? err.wireCode : WireCode.PROTOCOL_ERROR, (err as Error).message);
      return;
    }
    if (hello?.kind === 'resume') {
      const existing = this.resumable.get(hello.id.toString('hex'));
      if (!existing) {
        debugLog('host', 'resume of an unknown stream refused', { id: hello.id.toString('hex').slice(0, 8) });
        stream.reject(WireCode.RESUME_UNKNOWN, 'resume refused: this host has no such stream');
        return;
      }
      existing.acceptResume(stream, hello);
      return;
    }
    if (hello && this.resumable.has(hello.id.toString('hex'))) {
      // A NEW hello for an id we know is a replay (or a collision): never replace the stream.
      stream.reject(WireCode.PROTOCOL_ERROR, 'a stream with this id exists');
      return;
    }
    this.connectTarget(stream, hello);
  }

  /** A span from the OPEN to its answer: accepted (OPEN_OK) or refused, with the code. */
  private traceAccept(tracer: Tracer, stream: MuxStream, request: OpenRequest): void {
    const { host, port } = this.options.target;
    const span = startAcceptSpan(tracer, this.options.tunnel, readTraceContext(request.metadata), { 'tether.target': `${host}:${port}` });
    stream.once('open', () => span.ok());
    stream.once('close', (err: TetherError | undefined) => span.failed(err?.code ?? ErrorCode.STREAM_CLOSED, err?.wireCode));
  }

  /** Connects to the target for a new stream; accepts it once the target answers. */
  private connectTarget(stream: MuxStream, hello: Extract<StreamHello, { kind: 'new' }> | undefined): void {
    const { host, port } = this.options.target;
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    this.sockets.add(socket);
    this.streamsServed++;
    this.emit('stream', stream.id);
    const timer = setTimeout(() => {
      socket.destroy();
      if (stream.state === 'pending') stream.reject(WireCode.TARGET_UNREACHABLE, `target ${host}:${port} did not answer within ${this.options.connectTimeoutMs} ms`);
    }, this.options.connectTimeoutMs);
    const onEarlyClose = (): void => {
      clearTimeout(timer);
      if (socket.connecting) socket.destroy();
      if (stream.error) this.emit('streamClosed', stream.id, stream.error);
    };
    stream.once('close', onEarlyClose);
    socket.once('connect', () => {
      clearTimeout(timer);
      if (stream.state !== 'pending') {
        socket.destroy();
        return;
      }
      stream.off('close', onEarlyClose);
      stream.accept();
      this.emit('targetConnected', stream.id);
      if (hello) this.bridgeResumable(stream, hello, socket);
      else this.bridgePlain(stream, socket);
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

  /**
   * The host waits longer for a resume than the connector tries (75 s against 30 s by
   * default): when only the host's link to a relay fails, the connector learns of it only once
   * that relay notices (its idle timeout, 15 s by default, or the host registering again) and
   * then resumes elsewhere; the margin covers a relay configured more patiently.
   */
  private resumableOptions(): ResumableOptions & { resumeTimeoutMs: number } {
    return { ...this.options.resumable, resumeTimeoutMs: this.options.resumable?.resumeTimeoutMs ?? HOST_RESUME_TIMEOUT_MS };
  }

  private bridgePlain(stream: MuxStream, socket: net.Socket): void {
    this.plainStreams++;
    void bridge(stream, socket, socket).then((err) => {
      this.plainStreams--;
      this.emit('streamClosed', stream.id, err);
    });
  }

  private bridgeResumable(mux: MuxStream, hello: Extract<StreamHello, { kind: 'new' }>, socket: net.Socket): void {
    const key = hello.id.toString('hex');
    if (this.resumable.has(key)) {
      mux.reset(WireCode.PROTOCOL_ERROR, 'a stream with this id exists');
      socket.destroy();
      return;
    }
    const stream = ResumableStream.accept(mux, this.options.tunnel, hello, this.resumableOptions());
    this.resumable.set(key, stream);
    const id = mux.id;
    stream.on('detached', (err) => this.emit('streamDetached', key, err));
    stream.on('resumed', () => this.emit('streamResumed', key));
    void bridge(stream, socket, socket).then((err) => {
      this.emit('streamClosed', id, err);
      // Kept a while: the far end may still ask to resume it, to hear how it ended.
      const linger = setTimeout(() => {
        if (this.resumable.get(key) === stream) this.resumable.delete(key);
      }, this.resumableOptions().resumeTimeoutMs);
      linger.unref();
    });
  }
}
