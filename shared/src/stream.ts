import { EventEmitter } from 'node:events';
import type { ByteStream } from './byte-stream.js';
import { createError, ErrorCode, errorFromWire, WireCode, type TetherError } from './errors.js';
import { writeHeader } from './codec.js';
import { ReceiveWindow } from './flow-window.js';
import { FLAG_FIN, FrameType, HEADER_SIZE } from './frame.js';
import { HeldDelivery } from './held-delivery.js';

/**
 * Stream states (see docs/protocol.md):
 * opening → open (OPEN_OK) | closed (OPEN_ERR); pending → open (accept) | closed (reject);
 * open → half-closed-local (we sent FIN) | half-closed-remote (peer sent FIN) → closed (both);
 * any → closed on RESET or connection loss.
 */
export type StreamState = 'opening' | 'pending' | 'open' | 'half-closed-local' | 'half-closed-remote' | 'closed';

/** What a stream needs from its session; kept narrow so the stream can be tested alone. */
export interface StreamOwner {
  readonly maxFrameSize: number;
  readonly congested: boolean;
  readonly rttMs: number;
  now(): number;
  sendData(id: number, payload: Buffer, fin: boolean): void;
  /** Sends an already encoded frame. */
  sendFrame(frame: Buffer): void;
  /** A buffer of `size` bytes for a DATA frame about to be built and sent with sendFrame(). */
  allocFrame(size: number): Buffer;
  /** Calls `stream.flush()` once the current turn of the event loop is done. */
  scheduleFlush(stream: MuxStream): void;
  sendOpenOk(id: number, window: number): void;
  sendOpenErr(id: number, code: number, message: string): void;
  sendWindow(id: number, increment: number): void;
  sendReset(id: number, code: number, message: string): void;
  sendAck(id: number, offset: number, fin: boolean): void;
  streamClosed(stream: MuxStream): void;
}

export interface StreamWindowOptions {
  initialWindow: number;
  maxWindow: number;
  highWaterMark: number;
}

export interface MuxStreamEvents {
  open: [];
  data: [chunk: Buffer];
  end: [];
  drain: [];
  /** Our FIN has been handed to the transport: everything written has gone out. */
  finish: [];
  close: [err: TetherError | undefined];
  /** An ACK frame from the peer (resumable streams; see ResumableStream). */
  ack: [offset: number, fin: boolean];
  /** ResumableStream only: the relay path was lost; the stream waits to be resumed. */
  detached: [err: TetherError];
  /** ResumableStream only: the stream continues on a new path (attempt number). */
  resumed: [attempt: number];
  newListener: [event: string | symbol, listener: (...args: unknown[]) => void];
}

/**
 * One multiplexed stream. Writes queue until the peer grants credit; `write()` returns false
 * when the caller should wait for 'drain'. Received data is handed out with 'data' and must be
 * acknowledged with `consume(n)` once it has been passed on, which returns credit to the peer.
 */
export class MuxStream extends EventEmitter<MuxStreamEvents> implements ByteStream {
  readonly id: number;
  state: StreamState;
  /** Error that closed the stream, if it did not close cleanly. */
  error: TetherError | undefined;
  private readonly owner: StreamOwner;
  private readonly window: ReceiveWindow;
  private readonly highWaterMark: number;
  private sendCredit: number;
  private queue: Buffer[] = [];
  private queued = 0;
  private endRequested = false;
  private localFin = false;
  private remoteFin = false;
  private needDrain = false;
  bytesSent = 0;
  bytesReceived = 0;
  /** True when the stream closed because its whole connection did (not by a RESET of its own). */
  closedBySession = false;

  constructor(owner: StreamOwner, id: number, state: 'opening' | 'pending', options: StreamWindowOptions, peerWindow = 0) {
    super();
    this.owner = owner;
    this.id = id;
    this.state = state;
    this.window = new ReceiveWindow(options.initialWindow, options.maxWindow, owner.now());
    this.highWaterMark = options.highWaterMark;
    this.sendCredit = peerWindow;
    this.delivery = new HeldDelivery(this);
  }

  /** Received data waits here while nobody listens (see HeldDelivery). */
  private readonly delivery: HeldDelivery;

  /** Current receive window size (grows with auto-tuning). */
  get receiveWindow(): number {
    return this.window.size;
  }

  /** Bytes queued locally, waiting for credit or for the transport. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Accepts a stream the peer opened. */
  accept(): void {
    if (this.state !== 'pending') throw createError(ErrorCode.STREAM_CLOSED, `cannot accept a stream in state ${this.state}`);
    this.state = 'open';
    this.owner.sendOpenOk(this.id, this.window.size);
    this.emit('open');
    this.flush();
  }

  /** Refuses a stream the peer opened, with a wire code. */
  reject(code: number, message: string): void {
    if (this.state !== 'pending') throw createError(ErrorCode.STREAM_CLOSED, `cannot reject a stream in state ${this.state}`);
    this.owner.sendOpenErr(this.id, code, message);
    this.finish(errorFromWire(code, message));
  }

  /** Queues `chunk`; false means wait for 'drain' before writing more. */
  write(chunk: Buffer): boolean {
    if (this.endRequested || this.state === 'closed') {
      throw createError(ErrorCode.STREAM_CLOSED, `write after ${this.state === 'closed' ? 'close' : 'end'} on stream ${this.id}`);
    }
    if (chunk.length > 0) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      // A full frame goes now; less waits for the end of this turn of the event loop, so that
      // chunks read from a socket together leave together.
      if (this.queued >= this.owner.maxFrameSize) this.flush();
      else this.owner.scheduleFlush(this);
    }
    const ok = this.queued < this.highWaterMark;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Half-closes the sending direction once queued data has gone out. */
  end(): void {
    if (this.endRequested || this.state === 'closed') return;
    this.endRequested = true;
    this.flush();
  }

  /** Aborts the stream in both directions and tells the peer why. */
  reset(code: number = WireCode.CANCELLED, message = 'stream reset'): void {
    if (this.state === 'closed') return;
    if (this.state !== 'pending') this.owner.sendReset(this.id, code, message);
    else this.owner.sendOpenErr(this.id, code, message);
    this.finish(errorFromWire(code, message));
  }

  /** Tells the stream that `n` received bytes were passed on; returns credit to the peer. */
  consume(n: number): void {
    if (this.state === 'closed' || n <= 0) return;
    const increment = this.window.onConsume(n, this.owner.now(), this.owner.rttMs);
    if (increment > 0 && !this.remoteFin) this.owner.sendWindow(this.id, increment);
  }

  /**
   * Sends an ACK frame (end-to-end control of a resumable stream riding on this one). Allowed
   * while the stream is open in either direction; ignored before it opened and after it closed.
   */
  sendAck(offset: number, fin = false): void {
    if (this.state === 'closed' || this.state === 'opening' || this.state === 'pending' || this.localFin) return;
    // An ACK with FIN says our data ends here: it must not overtake data still queued.
    if (fin && this.queued > 0) {
      this.pendingFinAck = offset;
      return;
    }
    // Data about to go out this turn goes first (the receiver passes it on before it reads the
    // ACK); the ACK follows in the same write. Data waiting for credit does not hold it back.
    if (!fin && this.queued > 0 && this.sendCredit > 0 && !this.owner.congested) {
      this.pendingAck = offset;
      return;
    }
    this.owner.sendAck(this.id, offset, fin);
  }

  private pendingFinAck: number | undefined;
  /** An ACK to send right after the data flush() is about to send. */
  private pendingAck: number | undefined;

  // --- called by the session ---------------------------------------------------------------

  /** @internal */
  onOpenOk(window: number): void {
    if (this.state !== 'opening') throw createError(ErrorCode.PROTOCOL_ERROR, `OPEN_OK for stream ${this.id} in state ${this.state}`);
    this.state = 'open';
    this.sendCredit = window;
    this.emit('open');
    this.flush();
  }

  /** @internal */
  onOpenErr(code: number, message: string): void {
    this.finish(errorFromWire(code, message));
  }

  /** @internal Returns false on a flow-control violation. */
  onData(payload: Buffer, fin: boolean): boolean {
    if (this.remoteFin || this.state === 'opening' || this.state === 'pending') {
      this.reset(WireCode.PROTOCOL_ERROR, `DATA on stream ${this.id} in state ${this.state}${this.remoteFin ? ' after FIN' : ''}`);
      return true;
    }
    if (payload.length > 0) {
      if (!this.window.onReceive(payload.length)) {
        this.reset(WireCode.FLOW_CONTROL, `peer sent past the granted window of stream ${this.id}`);
        return false;
      }
      this.bytesReceived += payload.length;
      this.delivery.deliver(payload);
    }
    if (fin) {
      this.remoteFin = true;
      if (this.state === 'open') this.state = 'half-closed-remote';
      this.delivery.deliver(null);
      this.maybeClosed();
    }
    return true;
  }

  /** @internal */
  onWindow(increment: number): boolean {
    this.sendCredit += increment;
    if (this.sendCredit > 2 ** 32) {
      this.reset(WireCode.FLOW_CONTROL, `window of stream ${this.id} grew past 2^32`);
      return false;
    }
    this.flush();
    return true;
  }

  /** @internal */
  onAck(offset: number, fin: boolean): void {
    if (this.state === 'opening' || this.state === 'pending') {
      this.reset(WireCode.PROTOCOL_ERROR, `ACK on stream ${this.id} in state ${this.state}`);
      return;
    }
    this.emit('ack', offset, fin);
  }

  /** @internal */
  onReset(code: number, message: string): void {
    this.finish(errorFromWire(code, message));
  }

  /** @internal The connection is gone: close with `err`. */
  onSessionClosed(err: TetherError): void {
    this.closedBySession = this.state !== 'closed';
    this.finish(err);
  }




  /** @internal Sends what the credit and the transport allow. */
  flush(): void {
    if (this.state === 'opening' || this.state === 'pending' || this.state === 'closed' || this.localFin) return;
    const max = this.owner.maxFrameSize;
    while (this.queued > 0 && this.sendCredit > 0 && !this.owner.congested) {
      // Queued chunks go out together, up to a full frame: the header costs one copy anyway,
      // and on every hop of the tunnel each message is a syscall.
      const n = Math.min(this.queued, this.sendCredit, max);
      const frame = this.owner.allocFrame(HEADER_SIZE + n);
      let offset = HEADER_SIZE;
      while (offset < frame.length) {
        const head = this.queue[0];
        const take = Math.min(head.length, frame.length - offset);
        head.copy(frame, offset, 0, take);
        offset += take;
        if (take === head.length) this.queue.shift();
        else this.queue[0] = head.subarray(take);
      }
      this.queued -= n;
      this.sendCredit -= n;
      this.bytesSent += n;
      const fin = this.endRequested && this.queued === 0;
      writeHeader(frame, 0, FrameType.DATA, fin ? FLAG_FIN : 0, this.id, n);
      // Every ACK precedes the attachment's FIN (docs/protocol.md, "Ends").
      if (fin) this.sendPendingAck();
      this.owner.sendFrame(frame);
      if (fin) return this.onLocalFin();
    }
    this.sendPendingAck();
    if (this.queued === 0 && this.pendingFinAck !== undefined) {
      const offset = this.pendingFinAck;
      this.pendingFinAck = undefined;
      this.owner.sendAck(this.id, offset, true);
    }
    if (this.queued === 0 && this.endRequested) {
      this.owner.sendData(this.id, Buffer.alloc(0), true);
      return this.onLocalFin();
    }
    if (this.needDrain && this.queued < this.highWaterMark) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private sendPendingAck(): void {
    if (this.pendingAck === undefined) return;
    const offset = this.pendingAck;
    this.pendingAck = undefined;
    this.owner.sendAck(this.id, offset, false);
  }

  private onLocalFin(): void {
    this.localFin = true;
    if (this.state === 'open') this.state = 'half-closed-local';
    this.emit('finish');
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (this.localFin && this.remoteFin) this.finish(undefined);
  }

  private finish(err: TetherError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.error = err;
    this.queue = [];
    this.queued = 0;
    this.owner.streamClosed(this);
    this.emit('close', err);
  }
}

