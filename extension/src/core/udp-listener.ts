import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { assertTunnelName, createError, ErrorCode, isTetherError, UdpDefaults, type MuxSession, type MuxStream, type TetherError } from '@tether/shared';
import { FlowDemux } from './flow-demux.js';
import { countDrop, emptyUdpStats, enlargeBuffers, type UdpDrop, type UdpStats } from './udp-stats.js';

export interface UdpListenerOptions {
  tunnel: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The relay session a new flow's stream is opened on (a Connector's pool, say). */
  session: () => Promise<MuxSession>;
  /** A flow with no datagram either way for this long ends. */
  idleTimeoutMs?: number;
  /** Flows (client addresses) carried at once; datagrams from further clients are dropped. */
  maxFlows?: number;
  maxDatagramSize?: number;
  /** Datagrams of a new flow held until its stream is accepted. */
  maxQueuedPerFlow?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface UdpListenerEvents {
  /** A flow's stream was accepted by the host. */
  flowOpened: [remote: string];
  /** A flow's stream could not be opened (the datagrams of that client are dropped for a moment). */
  flowError: [remote: string, err: TetherError];
  /** A flow ended: idle (no error), or its stream or relay connection failed. */
  flowClosed: [remote: string, err: TetherError | undefined];
  /** The socket failed after it was bound (it keeps serving when it can). */
  socketError: [err: Error];
}

interface Flow {
  remote: string;
  address: string;
  port: number;
  session?: MuxSession;
  stream?: MuxStream;
  open: boolean;
  /** Datagrams that came before the stream was accepted. */
  held: Buffer[];
  lastActive: number;
  /** Set when the open failed: the client's datagrams are dropped until then. */
  failedUntil?: number;
}

/**
 * `tether connect NAME --udp`: a UDP socket whose every client address (ip:port) is one flow,
 * carried as one stream to the tunnel with its datagrams in DATAGRAM frames (docs/udp.md). Flows
 * end when idle; nothing is retransmitted or queued beyond a new flow's first datagrams.
 */
export class UdpListener extends EventEmitter<UdpListenerEvents> {
  readonly stats: UdpStats = emptyUdpStats();
  private readonly options: Required<UdpListenerOptions>;
  private readonly socket: dgram.Socket;
  private readonly flows = new Map<string, Flow>();
  private readonly demux: FlowDemux<Flow>;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: UdpListenerOptions) {
    super();
    assertTunnelName(options.tunnel);
    // Options given as undefined take their defaults too.
    this.options = {
      ...options,
      idleTimeoutMs: options.idleTimeoutMs ?? UdpDefaults.idleTimeoutMs,
      maxFlows: options.maxFlows ?? UdpDefaults.maxFlowsPerListener,
      maxDatagramSize: options.maxDatagramSize ?? UdpDefaults.maxDatagramSize,
      maxQueuedPerFlow: options.maxQueuedPerFlow ?? UdpDefaults.maxQueuedPerFlow,
      now: options.now ?? (() => performance.now()),
    };
    for (const key of ['idleTimeoutMs', 'maxFlows', 'maxDatagramSize', 'maxQueuedPerFlow'] as const) {
      const value = this.options[key];
      if (!Number.isInteger(value) || value < 1) throw createError(ErrorCode.INVALID_ARGUMENT, `UDP option ${key} must be a positive integer, got ${value}`);
    }
    this.socket = dgram.createSocket({ type: net.isIPv6(options.host) ? 'udp6' : 'udp4' });
    this.demux = new FlowDemux((flow, payload) => this.toClient(flow, payload), () => this.drop('unknown_flow'));
  }

  /** How long a flow may be idle before it ends, in ms. */
  get idleTimeoutMs(): number {
    return this.options.idleTimeoutMs;
  }

  /** Binds the socket; rejects with ADDRESS_IN_USE or INVALID_ARGUMENT. Resolves the port bound. */
  listen(): Promise<number> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.closed = true;
        this.socket.close();
        if (err.code === 'EADDRINUSE') reject(createError(ErrorCode.ADDRESS_IN_USE, `UDP port ${port} on ${host} is already in use: stop the other process, or pick another port`));
        else reject(createError(ErrorCode.INVALID_ARGUMENT, `cannot listen for UDP on ${host}:${port}: ${err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges; pick a higher one)' : err.message}`));
      };
      this.socket.once('error', onError);
      this.socket.bind(port, host, () => {
        this.socket.off('error', onError);
        enlargeBuffers(this.socket, UdpDefaults.socketBufferBytes);
        // A failure later (ICMP errors, say) concerns one datagram, never the process.
        this.socket.on('error', (err) => this.emit('socketError', err));
        this.socket.on('message', (message, rinfo) => this.fromClient(message, rinfo));
        const sweepMs = Math.max(10, Math.min(1000, Math.floor(this.options.idleTimeoutMs / 4)));
        this.sweeper = setInterval(() => this.sweep(), sweepMs);
        this.sweeper.unref();
        resolve(this.socket.address().port);
      });
    });
  }

  /** Ends every flow and closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const flow of [...this.flows.values()]) this.endFlow(flow);
    this.demux.close();
    this.socket.close();
  }

  private fromClient(message: Buffer, rinfo: dgram.RemoteInfo): void {
    if (message.length > this.options.maxDatagramSize) return this.drop('too_large');
    const remote = rinfo.family === 'IPv6' ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`;
    let flow = this.flows.get(remote);
    if (!flow) {
      if (this.flows.size >= this.options.maxFlows) return this.drop('flow_limit');
      flow = { remote, address: rinfo.address, port: rinfo.port, open: false, held: [], lastActive: this.options.now() };
      this.flows.set(remote, flow);
      this.openFlow(flow);
    }
    if (flow.failedUntil !== undefined) return this.drop('open_failed');
    flow.lastActive = this.options.now();
    if (!flow.open) {
      if (flow.held.length >= this.options.maxQueuedPerFlow) return this.drop('queue_full');
      flow.held.push(message);
      return;
    }
    this.sendUp(flow, message);
  }

  private sendUp(flow: Flow, message: Buffer): void {
    if (flow.session!.sendDatagram(flow.stream!.id, message)) this.stats.up++;
    else this.drop('congested');
  }

  private openFlow(flow: Flow): void {
    this.openStream(flow).catch((err: unknown) => this.openFailed(flow, isTetherError(err) ? err : createError(ErrorCode.INTERNAL, String(err))));
  }

  private async openStream(flow: Flow): Promise<void> {
    const session = await this.options.session();
    if (this.closed || this.flows.get(flow.remote) !== flow) return;
    const stream = session.openStream(this.options.tunnel);
    flow.session = session;
    flow.stream = stream;
    this.demux.add(session, stream.id, flow);
    // A flow carries no DATA; anything a confused peer sends is read and dropped.
    stream.on('data', (chunk) => stream.consume(chunk.length));
    stream.on('end', () => stream.end());
    stream.once('open', () => {
      flow.open = true;
      this.stats.flows++;
      this.stats.flowsOpened++;
      this.emit('flowOpened', flow.remote);
      const held = flow.held;
      flow.held = [];
      for (const message of held) this.sendUp(flow, message);
    });
    stream.once('close', (err) => this.onStreamClosed(flow, session, stream, err));
  }

  private onStreamClosed(flow: Flow, session: MuxSession, stream: MuxStream, err: TetherError | undefined): void {
    this.demux.delete(session, stream.id);
    if (!flow.open) return this.openFailed(flow, err ?? createError(ErrorCode.STREAM_CLOSED, 'the flow closed before it opened'));
    this.stats.flows--;
    if (this.flows.get(flow.remote) === flow) this.flows.delete(flow.remote);
    this.emit('flowClosed', flow.remote, err);
  }

  private openFailed(flow: Flow, err: TetherError): void {
    if (this.closed) return;
    for (let i = 0; i < flow.held.length; i++) this.drop('open_failed');
    flow.held = [];
    flow.failedUntil = this.options.now() + UdpDefaults.retryAfterFailMs;
    this.emit('flowError', flow.remote, err);
  }

  private toClient(flow: Flow, payload: Buffer): void {
    if (this.closed) return;
    if (this.socket.getSendQueueCount() >= UdpDefaults.maxSendQueue) return this.drop('socket_busy');
    flow.lastActive = this.options.now();
    this.stats.down++;
    this.socket.send(payload, flow.port, flow.address);
  }

  /** Ends idle flows, and forgets failed ones whose wait is over. */
  private sweep(): void {
    const now = this.options.now();
    for (const flow of [...this.flows.values()]) {
      if (flow.failedUntil !== undefined) {
        if (now >= flow.failedUntil) this.flows.delete(flow.remote);
      } else if (flow.open && now - flow.lastActive >= this.options.idleTimeoutMs) {
        this.endFlow(flow);
      }
    }
  }

  /** Ends a flow gracefully (FIN); a new datagram from its client opens a new one. */
  private endFlow(flow: Flow): void {
    this.flows.delete(flow.remote);
    if (flow.stream && flow.stream.state !== 'closed') {
      if (flow.open) flow.stream.end();
      else flow.stream.reset();
    }
  }

  private drop(why: UdpDrop): void {
    countDrop(this.stats, why);
  }
}
