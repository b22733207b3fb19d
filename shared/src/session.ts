import { EventEmitter } from 'node:events';
import {
  decodeFrames,
  encodeAck,
  encodeData,
  encodeDatagram,
  encodeGoAway,
  encodeOpen,
  encodeOpenErr,
  encodeOpenOk,
  encodePing,
  encodePong,
  encodeReset,
  encodeWindow,
} from './codec.js';
import { CloseCode, createError, ErrorCode, errorFromWire, TetherError, WireCode } from './errors.js';
import { FrameType, HEADER_SIZE, MAX_OPEN_METADATA_BYTES, type Frame } from './frame.js';
import { Defaults } from './limits.js';
import type { FramePool } from './frame-pool.js';
import { MuxStream, type StreamOwner } from './stream.js';
import { assertTunnelName } from './tunnel-name.js';

/** Sends one encoded message; returns false when the transport is over its high-water mark. */
export type SendFn = (message: Buffer) => boolean;

export interface SessionOptions {
  /** 'client' (the WebSocket client) opens odd stream ids, 'server' even ones. */
  role: 'client' | 'server';
  send: SendFn;
  maxFrameSize?: number;
  initialWindow?: number;
  maxWindow?: number;
  maxStreams?: number;
  streamHighWaterMark?: number;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
  /**
   * Where DATA frames built from queued chunks get their memory (see FramePool). Only for a
   * transport that calls `framePool.release(message)` once it has written a message out; without
   * it every frame is a fresh buffer.
   */
  framePool?: FramePool;
  /**
   * Holds the transport's writes back until uncork(): a socket's cork()/uncork(). When given,
   * everything the session sends in one turn of the event loop (DATA of every stream that
   * flushed, WINDOW, ACK, PONG) leaves in one write: on each hop of a tunnel a write is a system
   * call and a wake-up of the next process.
   */
  cork?: { cork(): void; uncork(): void };
}

export interface OpenRequest {
  tunnel: string;
  metadata: Buffer;
}

export interface SessionEvents {
  stream: [stream: MuxStream, request: OpenRequest];
  goaway: [lastStreamId: number, err: TetherError];
  rtt: [ms: number];
  datagram: [flowId: number, payload: Buffer];
  close: [err: TetherError | undefined];
}

/**
 * A stream's queue this small (a keystroke, a shell's echo, an ACK) is interactive traffic,
 * served before the bulk ones when a congested transport drains: in a session (or a quarter of
 * a frame, if less) and in the relay's per-stream queues of a link.
 */
export const SMALL_QUEUE_BYTES = 4096;

/**
 * Refuses options that would break the protocol later (a zero window goes out in OPEN and the
 * peer drops the connection; a window above 2^32-1 cannot be encoded; a zero high-water mark
 * makes every write() wait for a 'drain' that never comes).
 */
function checkOptions(options: Required<Omit<SessionOptions, 'send' | 'now' | 'role' | 'framePool' | 'cork'>>): void {
  for (const [name, value] of Object.entries(options)) {
    const max = name === 'initialWindow' || name === 'maxWindow' || name === 'maxFrameSize' ? 0xffffffff : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw createError(ErrorCode.INVALID_CONFIG, `session option ${name} must be an integer from 1 to ${max}, got ${value}`);
    }
  }
}

/**
 * A multiplexed session over one message transport. Pure: it decodes what `receive()` is given
 * and writes through `send`; the owner wires those to a WebSocket (or anything else) and calls
 * `transportDrained()` when a congested transport can take more.
 */
export class MuxSession extends EventEmitter<SessionEvents> implements StreamOwner {
  readonly maxFrameSize: number;
  readonly options: Required<Omit<SessionOptions, 'send' | 'now' | 'role' | 'framePool' | 'cork'>>;
  private readonly framePool: FramePool | undefined;
  private readonly corker: { cork(): void; uncork(): void } | undefined;
  private corked = false;
  private readonly role: 'client' | 'server';
  private readonly sendFn: SendFn;
  readonly now: () => number;
  private readonly streams = new Map<number, MuxStream>();
  private nextId: number;
  private lastPeerId = 0;
  private pingSeq = 0;
  private readonly pings = new Map<number, number>();
  congested = false;
  closed = false;
  /** Set once we sent GOAWAY: new incoming streams are refused. */
  localGoAway = false;
  /** Set once the peer sent GOAWAY: new outgoing streams fail. */
  remoteGoAway: TetherError | undefined;
  /** Smoothed round-trip time in ms (0 until measured). */
  rttMs = 0;
  lastRttMs = 0;
  minRttMs = 0;
  /** Time the last message arrived (for liveness checks). */
  lastReceivedAt: number;
  bytesIn = 0;
  bytesOut = 0;
  /** Datagrams handed to the transport, and those dropped instead (see sendDatagram). */
  datagramsSent = 0;
  datagramsDropped = 0;

  constructor(options: SessionOptions) {
    super();
    this.role = options.role;
    this.sendFn = options.send;
    this.framePool = options.framePool;
    this.corker = options.cork;
    this.now = options.now ?? (() => performance.now());
    this.options = {
      maxFrameSize: options.maxFrameSize ?? Defaults.maxFrameSize,
      initialWindow: options.initialWindow ?? Defaults.initialWindow,
      maxWindow: options.maxWindow ?? Defaults.maxWindow,
      maxStreams: options.maxStreams ?? Defaults.maxStreamsPerConnection,
      streamHighWaterMark: options.streamHighWaterMark ?? Defaults.streamHighWaterMark,
    };
    checkOptions(this.options);
    this.maxFrameSize = this.options.maxFrameSize;
    this.nextId = this.role === 'client' ? 1 : 2;
    this.lastReceivedAt = this.now();
  }

  /** Number of streams not yet closed. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Streams not yet closed (a snapshot). */
  listStreams(): MuxStream[] {
    return [...this.streams.values()];
  }

  /** Opens a stream to `tunnel`; it emits 'open' or closes with the peer's coded error. */
  openStream(tunnel: string, metadata?: Buffer): MuxStream {
    // The peer's decoder rejects a malformed OPEN as a protocol error and drops the whole
    // connection, taking every other stream with it: refuse bad arguments here instead.
    assertTunnelName(tunnel);
    const metadataLength = metadata?.length ?? 0;
    if (metadataLength > MAX_OPEN_METADATA_BYTES || 5 + tunnel.length + metadataLength > this.maxFrameSize) {
      throw createError(
        ErrorCode.INVALID_ARGUMENT,
        `OPEN metadata of ${metadataLength} bytes is over the limit of ${Math.min(MAX_OPEN_METADATA_BYTES, this.maxFrameSize - 5 - tunnel.length)}`,
      );
    }
    if (this.closed) throw createError(ErrorCode.CONNECTION_LOST, 'session is closed');
    if (this.remoteGoAway) throw createError(ErrorCode.GOING_AWAY, `relay is going away: ${this.remoteGoAway.message}`);
    if (this.streams.size >= this.options.maxStreams) {
      throw createError(ErrorCode.STREAM_LIMIT, `at most ${this.options.maxStreams} streams per connection`);
    }
    if (this.nextId > 0xfffffffe) throw createError(ErrorCode.STREAM_LIMIT, 'stream ids exhausted on this connection');
    const id = this.nextId;
    this.nextId += 2;
    const stream = new MuxStream(this, id, 'opening', this.windowOptions());
    this.streams.set(id, stream);
    this.send(encodeOpen(id, stream.receiveWindow, tunnel, metadata));
    return stream;
  }

  /** Feeds one received transport message. A connection-level error closes the session. */
  receive(message: Buffer): void {
    if (this.closed) return;
    this.lastReceivedAt = this.now();
    this.bytesIn += message.length;
    try {
      // A frame may close the session (a protocol error, or a listener calling destroy()); the
      // frames after it in the same message must not open streams on a closed session.
      decodeFrames(message, this.options, (frame) => {
        if (!this.closed) this.onFrame(frame);
      });
    } catch (err) {
      this.destroy(err instanceof TetherError ? err : createError(ErrorCode.INTERNAL, String(err), CloseCode.INTERNAL));
    }
  }

  /** When the last PING went out (the session's clock; -Infinity before the first). */
  lastPingAt = -Infinity;

  /** Sends a PING; the matching PONG updates `rttMs`. */
  ping(): void {
    if (this.closed) return;
    this.lastPingAt = this.now();
    const seq = (this.pingSeq = (this.pingSeq + 1) >>> 0);
    if (this.pings.size >= 16) this.pings.delete(this.pings.keys().next().value as number);
    this.pings.set(seq, this.now());
    const data = Buffer.alloc(8);
    data.writeUInt32BE(seq, 0);
    this.send(encodePing(data));
  }

  /**
   * Sends one datagram on the flow of open stream `flowId` (docs/udp.md). Unreliable by design:
   * it is dropped, and false returned, when the transport is congested (a datagram never waits
   * behind the streams' bytes, nor queues without bound), when it does not fit in one frame, or
   * when the flow's stream is not open. It uses no stream credit.
   */
  sendDatagram(flowId: number, payload: Buffer): boolean {
    const state = this.streams.get(flowId)?.state;
    if (this.closed || this.congested || payload.length > this.maxFrameSize || (state !== 'open' && state !== 'half-closed-remote')) {
      this.datagramsDropped++;
      return false;
    }
    this.datagramsSent++;
    const frame = encodeDatagram(flowId, payload);
    // Datagrams read together (a socket hands out a burst in one turn) leave as one message: a
    // message per datagram costs a syscall and a WebSocket frame on every hop. A batch stays
    // within one frame's size, which every peer's message limit holds.
    if (this.datagramBatchBytes + frame.length > this.maxFrameSize + HEADER_SIZE) this.flushDatagrams();
    this.datagramBatch.push(frame);
    this.datagramBatchBytes += frame.length;
    this.scheduleTurn();
    return true;
  }

  private datagramBatch: Buffer[] = [];
  private datagramBatchBytes = 0;
  private readonly flushDatagrams = (): void => {
    if (this.datagramBatch.length === 0) return;
    const batch = this.datagramBatch;
    this.datagramBatch = [];
    this.datagramBatchBytes = 0;
    this.send(batch.length === 1 ? batch[0] : Buffer.concat(batch));
  };

  /** Refuses new incoming streams and tells the peer to open no more. */
  goAway(code: number = WireCode.GOING_AWAY, message = 'going away'): void {
    if (this.closed || this.localGoAway) return;
    this.localGoAway = true;
    this.send(encodeGoAway(this.lastPeerId, code, message));
  }

  /** The transport can take more: resume streams that were waiting. */
  transportDrained(): void {
    if (!this.congested) return;
    this.congested = false;
    const streams = [...this.streams.values()];
    const small = Math.min(SMALL_QUEUE_BYTES, this.maxFrameSize / 4);
    // Streams with only a little queued (a keystroke, a shell's echo, an ACK's worth) go first.
    // In the rotation below they would wait behind a frame of every bulk stream before them:
    // with 100 bulk streams, a dozen drains.
    for (const stream of streams) {
      if (stream.queuedBytes > 0 && stream.queuedBytes <= small) {
        stream.flush();
        if (this.congested) return;
      }
    }
    // Round robin: start after the stream that filled the transport last time, so a busy
    // stream early in the table cannot keep the others waiting drain after drain.
    const n = streams.length;
    for (let i = 0; i < n; i++) {
      const index = (this.drainCursor + i) % n;
      streams[index].flush();
      if (this.congested) {
        this.drainCursor = index + 1;
        return;
      }
    }
  }

  private drainCursor = 0;

  /** Closes every stream with `err` (or CONNECTION_LOST) and the session itself. */
  destroy(err?: TetherError): void {
    if (this.closed) return;
    this.closed = true;
    const cause = err ?? createError(ErrorCode.CONNECTION_LOST, 'connection closed');
    for (const stream of [...this.streams.values()]) stream.onSessionClosed(cause);
    this.streams.clear();
    this.emit('close', err);
  }

  // --- StreamOwner --------------------------------------------------------------------------

  sendData(id: number, payload: Buffer, fin: boolean): void {
    this.send(encodeData(id, payload, fin));
  }
  sendFrame(frame: Buffer): void {
    this.send(frame);
  }
  allocFrame(size: number): Buffer {
    return this.framePool ? this.framePool.take(size) : Buffer.allocUnsafe(size);
  }
  scheduleFlush(stream: MuxStream): void {
    this.flushQueue.add(stream);
    this.scheduleTurn();
  }
  private readonly flushQueue = new Set<MuxStream>();
  private readonly runFlushes = (): void => {
    for (const stream of this.flushQueue) {
      this.flushQueue.delete(stream);
      stream.flush();
    }
  };
  /** The end of a turn in which the session wrote: what streams queued goes too, then all of it at once. */
  private readonly endTurn = (): void => {
    this.turnScheduled = false;
    if (this.corker && !this.corked) {
      this.corked = true;
      this.corker.cork();
    }
    this.runFlushes();
    this.flushDatagrams();
    if (!this.corked) return;
    this.corked = false;
    this.corker?.uncork();
  };
  private turnScheduled = false;
  /** Runs endTurn once the current turn of the event loop is done. */
  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.endTurn);
  }
  sendOpenOk(id: number, window: number): void {
    this.send(encodeOpenOk(id, window));
  }
  sendOpenErr(id: number, code: number, message: string): void {
    this.send(encodeOpenErr(id, code, message));
  }
  sendWindow(id: number, increment: number): void {
    this.send(encodeWindow(id, increment));
  }
  sendReset(id: number, code: number, message: string): void {
    this.send(encodeReset(id, code, message));
  }
  sendAck(id: number, offset: number, fin: boolean): void {
    this.send(encodeAck(id, offset, fin));
  }
  streamClosed(stream: MuxStream): void {
    this.streams.delete(stream.id);
  }

  // --- internals ----------------------------------------------------------------------------

  private windowOptions() {
    return {
      initialWindow: this.options.initialWindow,
      maxWindow: this.options.maxWindow,
      highWaterMark: this.options.streamHighWaterMark,
    };
  }

  private send(message: Buffer): void {
    if (this.closed) return;
    if (this.corker && !this.corked) {
      this.corked = true;
      this.corker.cork();
      this.scheduleTurn();
    }
    this.bytesOut += message.length;
    if (!this.sendFn(message)) this.congested = true;
  }

  private isPeerId(id: number): boolean {
    return (id % 2 === 1) === (this.role === 'server');
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.OPEN: return this.onOpen(frame);
      case FrameType.PING: return this.send(encodePong(frame.data));
      case FrameType.PONG: return this.onPong(frame.data);
      case FrameType.GOAWAY: return this.onGoAway(frame.lastStreamId, frame.code, frame.message);
      case FrameType.DATAGRAM: {
        this.emit('datagram', frame.streamId, frame.payload);
        return;
      }
      default: break;
    }
    const stream = this.streams.get(frame.streamId);
    if (!stream) {
      // Late WINDOW/RESET for a stream that just closed are normal; DATA is answered with RESET.
      if (frame.type === FrameType.DATA) {
        this.sendReset(frame.streamId, WireCode.UNKNOWN_STREAM, `no stream ${frame.streamId}`);
      }
      return;
    }
    switch (frame.type) {
      case FrameType.DATA: stream.onData(frame.payload, frame.fin); return;
      case FrameType.WINDOW: stream.onWindow(frame.increment); return;
      case FrameType.RESET: stream.onReset(frame.code, frame.message); return;
      case FrameType.ACK: stream.onAck(frame.offset, frame.fin); return;
      case FrameType.OPEN_OK:
        if (stream.state !== 'opening') return this.protocolError(`OPEN_OK for stream ${frame.streamId} in state ${stream.state}`);
        stream.onOpenOk(frame.window);
        return;
      case FrameType.OPEN_ERR:
        if (stream.state !== 'opening') return this.protocolError(`OPEN_ERR for stream ${frame.streamId} in state ${stream.state}`);
        stream.onOpenErr(frame.code, frame.message);
        return;
    }
  }

  private onOpen(frame: Extract<Frame, { type: 1 }>): void {
    const id = frame.streamId;
    if (!this.isPeerId(id) || id <= this.lastPeerId) {
      return this.protocolError(`OPEN with stream id ${id} out of sequence`);
    }
    this.lastPeerId = id;
    if (this.localGoAway) return this.sendOpenErr(id, WireCode.GOING_AWAY, 'going away');
    if (this.streams.size >= this.options.maxStreams) {
      return this.sendOpenErr(id, WireCode.STREAM_LIMIT, `at most ${this.options.maxStreams} streams per connection`);
    }
    const stream = new MuxStream(this, id, 'pending', this.windowOptions(), frame.window);
    this.streams.set(id, stream);
    if (this.listenerCount('stream') === 0) {
      stream.reject(WireCode.TUNNEL_OFFLINE, 'nobody accepts streams here');
      return;
    }
    this.emit('stream', stream, { tunnel: frame.tunnel, metadata: frame.metadata });
  }

  private onPong(data: Buffer): void {
    const seq = data.readUInt32BE(0);
    const sentAt = this.pings.get(seq);
    if (sentAt === undefined) return;
    this.pings.delete(seq);
    const sample = Math.max(this.now() - sentAt, 0.001);
    this.lastRttMs = sample;
    this.minRttMs = this.minRttMs === 0 ? sample : Math.min(this.minRttMs, sample);
    this.rttMs = this.rttMs === 0 ? sample : this.rttMs * 0.875 + sample * 0.125;
    this.emit('rtt', sample);
  }

  private onGoAway(lastStreamId: number, code: number, message: string): void {
    const err = code === WireCode.NO_ERROR
      ? createError(ErrorCode.GOING_AWAY, message || 'going away')
      : errorFromWire(code, message);
    const goingAway = createError(ErrorCode.GOING_AWAY, err.message, CloseCode.GOING_AWAY);
    this.remoteGoAway = goingAway;
    // Streams we opened after the peer's last accepted id were never seen: fail them now.
    for (const stream of [...this.streams.values()]) {
      if (!this.isPeerId(stream.id) && stream.id > lastStreamId && stream.state === 'opening') {
        stream.onSessionClosed(goingAway);
      }
    }
    this.emit('goaway', lastStreamId, goingAway);
  }

  private protocolError(message: string): void {
    this.destroy(createError(ErrorCode.PROTOCOL_ERROR, message, CloseCode.PROTOCOL_ERROR));
  }
}
