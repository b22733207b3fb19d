import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { createError, ErrorCode, UdpDefaults, WireCode, type MuxSession, type MuxStream, type TetherError } from '@tether/shared';
import { FlowDemux } from './flow-demux.js';
import { countDrop, emptyUdpStats, enlargeBuffers, type UdpDrop, type UdpStats } from './udp-stats.js';

export interface UdpTargetOptions {
  /** The UDP service shared. */
  target: { host: string; port: number };
  /** The tunnel's name, for what a confused TCP connector is told. */
  tunnel: string;
  /** A flow with no datagram either way for this long ends. */
  idleTimeoutMs?: number;
  maxDatagramSize?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface UdpTargetEvents {
  /** A flow ended: idle or closed by the connector (no error), or failed. */
  flowClosed: [id: number, err: TetherError | undefined];
}

interface HostFlow {
  session: MuxSession;
  stream: MuxStream;
  socket: dgram.Socket;
  lastActive: number;
}

/**
 * `tether share NAME --udp`: every stream a relay opens is one UDP flow (docs/udp.md), served by
 * its own connected UDP socket to the target, so the service's answers come back to that flow.
 * The stream's end closes the socket; so does an idle timeout.
 */
export class UdpTarget extends EventEmitter<UdpTargetEvents> {
  readonly stats: UdpStats = emptyUdpStats();
  private readonly options: Required<UdpTargetOptions>;
  private readonly flows = new Set<HostFlow>();
  private readonly demux: FlowDemux<HostFlow>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: UdpTargetOptions) {
    super();
    // Options given as undefined take their defaults too.
    this.options = {
      ...options,
      idleTimeoutMs: options.idleTimeoutMs ?? UdpDefaults.idleTimeoutMs,
      maxDatagramSize: options.maxDatagramSize ?? UdpDefaults.maxDatagramSize,
      now: options.now ?? (() => performance.now()),
    };
    for (const key of ['idleTimeoutMs', 'maxDatagramSize'] as const) {
      const value = this.options[key];
      if (!Number.isInteger(value) || value < 1) throw createError(ErrorCode.INVALID_ARGUMENT, `UDP option ${key} must be a positive integer, got ${value}`);
    }
    this.demux = new FlowDemux((flow, payload) => this.toTarget(flow, payload), () => this.drop('unknown_flow'));
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, Math.floor(this.options.idleTimeoutMs / 4))));
    this.sweeper.unref();
  }

  /** Flows open now. */
  get activeFlows(): number {
    return this.flows.size;
  }

  /** Serves a stream the relay opened on `session`: accepted once its socket is connected. */
  serve(session: MuxSession, stream: MuxStream): void {
    const { host, port } = this.options.target;
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    const flow: HostFlow = { session, stream, socket, lastActive: this.options.now() };
    const closeSocket = (): void => {
      try {
        socket.close();
      } catch {
        // Closed already.
      }
    };
    // Before connect: the answer to the OPEN. After: ICMP errors (nothing listens on the target
    // right now, say) concern one datagram; the flow carries on, as UDP does.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (stream.state === 'pending') {
        closeSocket();
        stream.reject(WireCode.TARGET_UNREACHABLE, `UDP target ${host}:${port} unreachable (${err.code ?? err.message})`);
      }
    });
    stream.once('close', (err) => {
      closeSocket();
      if (!this.flows.delete(flow)) return;
      this.demux.delete(session, stream.id);
      this.stats.flows--;
      this.emit('flowClosed', stream.id, err);
    });
    // With a callback, a failed connect (an unknown host name, say) is reported to it.
    socket.connect(port, host, (err?: Error) => {
      if (stream.state !== 'pending') return closeSocket();
      if (err) {
        closeSocket();
        stream.reject(WireCode.TARGET_UNREACHABLE, `UDP target ${host}:${port} unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`);
        return;
      }
      enlargeBuffers(socket, UdpDefaults.socketBufferBytes);
      this.flows.add(flow);
      this.demux.add(session, stream.id, flow);
      this.stats.flows++;
      this.stats.flowsOpened++;
      socket.on('message', (message) => this.fromTarget(flow, message));
      // The connector ended the flow (its idle timeout, or it stopped): so do we.
      stream.on('end', () => stream.end());
      stream.on('data', () => stream.reset(WireCode.PROTOCOL_ERROR, `tunnel ${this.options.tunnel} is a UDP tunnel: connect with tether connect ${this.options.tunnel} --udp`));
      stream.accept();
    });
  }

  /** Ends every flow. */
  close(): void {
    clearInterval(this.sweeper);
    for (const flow of [...this.flows]) flow.stream.reset(WireCode.CANCELLED, 'host is stopping');
    this.demux.close();
  }

  private fromTarget(flow: HostFlow, message: Buffer): void {
    if (message.length > this.options.maxDatagramSize) return this.drop('too_large');
    flow.lastActive = this.options.now();
    if (flow.session.sendDatagram(flow.stream.id, message)) this.stats.down++;
    else this.drop('congested');
  }

  private toTarget(flow: HostFlow, payload: Buffer): void {
    if (flow.socket.getSendQueueCount() >= UdpDefaults.maxSendQueue) return this.drop('socket_busy');
    flow.lastActive = this.options.now();
    this.stats.up++;
    flow.socket.send(payload);
  }

  private sweep(): void {
    const now = this.options.now();
    for (const flow of this.flows) {
      if (now - flow.lastActive >= this.options.idleTimeoutMs && flow.stream.state === 'open') flow.stream.end();
    }
  }

  private drop(why: UdpDrop): void {
    countDrop(this.stats, why);
  }
}
