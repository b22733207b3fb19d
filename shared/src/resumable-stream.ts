import { EventEmitter } from 'node:events';
import type { ByteStream } from './byte-stream.js';
import { debugLog } from './debug-log.js';
import { isPathFailure, isResumeRefusal } from './error-class.js';
import { createError, ErrorCode, errorFromWire, WireCode, type TetherError } from './errors.js';
import { HeldDelivery } from './held-delivery.js';
import { encodeOpenMetadata, type OpenTraceContext } from './open-metadata.js';
import {
  checkStreamIdentity,
  newStreamIdentity,
  resumeHello,
  verifyResumeProof,
  type StreamHello,
  type StreamIdentity,
} from './resume.js';
import { ACK_SOON_BYTES, MIN_REPLAY_BUFFER_BYTES, RESUME_ATTEMPT_TIMEOUT_MS, ResumeDefaults } from './resume-defaults.js';
import type { MuxSession } from './session.js';
import type { MuxStream, MuxStreamEvents, StreamState } from './stream.js';

export interface ResumableOptions {
  /** Bytes written but not yet acknowledged by the far end that a stream keeps for a resume. */
  replayBufferBytes?: number;
  /** Received bytes after which an ACK goes out at once. */
  ackBytes?: number;
  /** Longest wait before received bytes are acknowledged once ACK_SOON_BYTES of them wait. */
  ackDelayMs?: number;
  /** Longest wait before fewer than ACK_SOON_BYTES received bytes are acknowledged. */
  lazyAckDelayMs?: number;
  /** How long a stream that lost its path waits to be resumed before it is reset. */
  resumeTimeoutMs?: number;
  /**
   * Opener: where a new stream's id and resume secret come from (default: random bytes). A
   * layer that agrees keys with the far end (end-to-end encryption) can derive the secret
   * from that agreement instead. The acceptor takes both from the NEW hello.
   */
  identity?: () => StreamIdentity;
  /** Opener: longest wait for an answer to one resume or move attempt (default RESUME_ATTEMPT_TIMEOUT_MS). */
  attemptTimeoutMs?: number;
}

/**
 * Throws a coded INVALID_ARGUMENT when `options` asks for a replay buffer below
 * MIN_REPLAY_BUFFER_BYTES: the far end acknowledges a few bytes lazily, counting on that floor
 * (ACK_SOON_BYTES). Agents call it when they are built, before any stream.
 */
export function checkResumableOptions(options: ResumableOptions): void {
  const replay = options.replayBufferBytes;
  if (replay !== undefined && (!Number.isSafeInteger(replay) || replay < MIN_REPLAY_BUFFER_BYTES)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `a replay buffer of ${replay} bytes is below the smallest allowed, ${MIN_REPLAY_BUFFER_BYTES}`);
  }
}

type Attachment = { stream: MuxStream; off: () => void };

/**
 * A stream that outlives the relay path under it (docs/protocol.md, "Resumable streams"). Its
 * bytes ride on one MuxStream at a time (an attachment); both ends keep what the other has not
 * acknowledged (ACK frames, end-to-end) in a bounded replay buffer. When an attachment fails the
 * stream is detached; the opener re-attaches through any relay with a RESUME hello, the
 * acceptor checks it, and both continue from the other's received offset: nothing lost,
 * nothing repeated, nothing reordered. The end of each direction is an ACK with FIN, counted
 * as one more byte; the stream closes once both ends are acknowledged.
 *
 * Same surface as MuxStream (write/end/reset/consume, 'data'/'end'/'drain'/'finish'/'close'),
 * plus 'detached' and 'resumed'.
 */
export class ResumableStream extends EventEmitter<MuxStreamEvents> implements ByteStream {
  readonly id: Buffer;
  readonly role: 'opener' | 'acceptor';
  readonly tunnel: string;
  state: StreamState;
  error: TetherError | undefined;
  /** True while no path carries the stream (waiting for a resume). */
  detached = false;
  /** Number of times the stream moved to a new attachment. */
  resumes = 0;
  private readonly secret: Buffer;
  private readonly options: Required<ResumableOptions>;
  private att: Attachment | undefined;
  // Sending side. replay holds bytes [acked, written).
  private replay: Buffer[] = [];
  private replayBytes = 0;
  private acked = 0;
  private written = 0;
  private finLocal = false;
  private finAcked = false;
  private attBlocked = false;
  private needDrain = false;
  // Receiving side.
  private received = 0;
  private finRemote = false;
  private ackSent = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  /** True while the ACK timer runs for `ackDelayMs` (not the lazy delay). */
  private ackTimerSoon = false;
  /** Bytes of earlier attachments not yet consumed: their credit is not the current one's. */
  private earlierUnconsumed = 0;
  private consumedTotal = 0;
  // Resume bookkeeping.
  private attempt = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Opener: the resume attachment is open, its first ACK (the far end's offset) is awaited. */
  private awaitingOffset: MuxStream | undefined;
  /** Opener: what `received` was when the pending resume's hello went out (a move keeps reading the old path). */
  private helloReceived = 0;
  /**
   * Opener: the offset the pending resume's hello carries. While a move is under way the old
   * path acknowledges no more than this: the far end's replay must still reach back to it when
   * the hello arrives, and the hello may well arrive after an ACK sent later on the old path.
   */
  private helloOffset = 0;
  /** Bytes at the start of the current attachment's data that were already received on the old path. */
  private skip = 0;
  /** Opener: the OPEN of the first attachment, until it is answered. */
  private opening: MuxStream | undefined;

  private constructor(role: 'opener' | 'acceptor', tunnel: string, id: Buffer, secret: Buffer, options: ResumableOptions) {
    super();
    this.role = role;
    this.tunnel = tunnel;
    this.id = id;
    this.secret = secret;
    this.options = { ...ResumeDefaults, identity: newStreamIdentity, attemptTimeoutMs: RESUME_ATTEMPT_TIMEOUT_MS, ...options };
    checkResumableOptions(options);
    this.state = role === 'opener' ? 'opening' : 'open';
    this.delivery = new HeldDelivery(this);
  }

  /** Received data waits here while nobody listens (see HeldDelivery). */
  private readonly delivery: HeldDelivery;

  /**
   * Opens a new resumable stream to `tunnel`; it emits 'open' or closes with the coded error.
   * `trace`: the opener's trace context, carried in the first OPEN's metadata (docs/tracing.md).
   */
  static open(session: MuxSession, tunnel: string, options: ResumableOptions = {}, trace: OpenTraceContext = {}): ResumableStream {
    const { id, secret } = checkStreamIdentity((options.identity ?? newStreamIdentity)());
    const stream = new ResumableStream('opener', tunnel, id, secret, options);
    const mux = session.openStream(tunnel, encodeOpenMetadata({ hello: { kind: 'new', id, secret }, ...trace }));
    stream.opening = mux;
    const onClose = (err: TetherError | undefined): void => {
      mux.off('open', onOpen);
      stream.opening = undefined;
      stream.finish(err ?? createError(ErrorCode.STREAM_CLOSED, 'stream closed before it opened'));
    };
    const onOpen = (): void => {
      mux.off('close', onClose);
      stream.opening = undefined;
      if (stream.state === 'closed') {
        mux.reset(WireCode.CANCELLED, 'stream reset while it opened');
        return;
      }
      stream.state = 'open';
      stream.attach(mux, 0);
      stream.emit('open');
    };
    mux.once('open', onOpen);
    mux.once('close', onClose);
    return stream;
  }

  /**
   * Accepts a stream whose OPEN carried a NEW hello (the caller accepts `mux` first, once its
   * target is ready).
   */
  static accept(mux: MuxStream, tunnel: string, hello: Extract<StreamHello, { kind: 'new' }>, options: ResumableOptions = {}): ResumableStream {
    const stream = new ResumableStream('acceptor', tunnel, hello.id, hello.secret, options);
    stream.attach(mux, 0);
    return stream;
  }

  /** Hex form of the stream id (for tables and logs). */
  get key(): string {
    return this.id.toString('hex');
  }

  get bytesSent(): number {
    return this.written;
  }

  get bytesReceived(): number {
    return this.received;
  }

  /** Bytes held for a possible resume. */
  get replayedBytes(): number {
    return this.replayBytes;
  }

  /** The MuxStream currently carrying the stream, if any. */
  get attachment(): MuxStream | undefined {
    return this.att?.stream;
  }

  write(chunk: Buffer): boolean {
    if (this.finLocal || this.state === 'closed') {
      throw createError(ErrorCode.STREAM_CLOSED, `write after ${this.state === 'closed' ? 'close' : 'end'} on a resumable stream`);
    }
    if (chunk.length > 0) {
      this.replay.push(chunk);
      this.replayBytes += chunk.length;
      this.written += chunk.length;
      if (this.att && !this.att.stream.write(chunk)) this.attBlocked = true;
      // An acknowledgement waiting for its timer leaves right behind this data instead, in the
      // same write: an echo, or a request answered, costs no message of its own.
      if (this.ackTimer) this.sendAckNow();
    }
    const ok = this.writable();
    if (!ok) this.needDrain = true;
    return ok;
  }

  end(): void {
    if (this.finLocal || this.state === 'closed') return;
    this.finLocal = true;
    this.att?.stream.sendAck(this.ackOffset(), true);
  }

  reset(code: number = WireCode.CANCELLED, message = 'stream reset'): void {
    this.abort(errorFromWire(code, message));
  }

  /**
   * Ends the stream here with `err`, which need not have a wire form (a credential revoked
   * everywhere, so no path can ever carry it again): whatever is attached is reset with the
   * error's wire code, and the stream closes with `err` itself.
   */
  abort(err: TetherError): void {
    if (this.state === 'closed') return;
    const att = this.att;
    this.release();
    att?.stream.reset(err.wireCode, err.message);
    this.opening?.reset(err.wireCode, err.message);
    this.awaitingOffset?.reset(err.wireCode, err.message);
    this.finish(err);
  }

  consume(n: number): void {
    if (n <= 0 || this.state === 'closed') return;
    this.consumedTotal += n;
    const skip = Math.min(n, this.earlierUnconsumed);
    this.earlierUnconsumed -= skip;
    if (n > skip) this.att?.stream.consume(n - skip);
  }

  // --- moving between paths ------------------------------------------------------------------

  /**
   * Opener: continues the stream through `session`. A detached stream is resumed; an attached
   * one is moved (its relay is draining) without a gap: the old path keeps carrying bytes until
   * the far end answers on the new one, and only then is it left. Resolves once the new path
   * carries the stream; rejects with the coded error of a failed attempt, after which the
   * stream is where it was (still attached, or still waiting). A refusal by the far end
   * (RESUME_*) also closes the stream. One attempt at a time.
   */
  resume(session: MuxSession): Promise<void> {
    if (this.role !== 'opener') return Promise.reject(createError(ErrorCode.INVALID_ARGUMENT, 'only the opener resumes a stream'));
    if (this.state === 'closed') return Promise.reject(this.error ?? createError(ErrorCode.STREAM_CLOSED, 'stream is closed'));
    if (this.awaitingOffset) return Promise.reject(createError(ErrorCode.INVALID_ARGUMENT, 'a resume of this stream is already under way'));
    if (this.state === 'opening') return Promise.reject(createError(ErrorCode.INVALID_ARGUMENT, 'the stream has not opened yet'));
    this.attempt += 1;
    this.helloReceived = this.received;
    this.helloOffset = this.receivedWithFin();
    const hello = encodeOpenMetadata({ hello: resumeHello(this.id, this.secret, this.attempt, this.helloOffset) });
    let mux: MuxStream;
    try {
      mux = session.openStream(this.tunnel, hello);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.awaitingOffset = mux;
    this.trace('resume: hello sent', { attempt: this.attempt, mux: mux.id, received: this.received, attached: this.att !== undefined });
    return new Promise((resolve, reject) => {
      // A path that answers nothing (no ACK, no refusal) must not hold the stream, nor keep
      // its owner from trying another path.
      const timer = setTimeout(() => {
        this.trace('resume: no answer in time', { mux: mux.id, ms: this.options.attemptTimeoutMs });
        mux.reset(WireCode.TIMEOUT, `no answer to the resume within ${this.options.attemptTimeoutMs} ms`);
        onClose(createError(ErrorCode.TIMEOUT, `no answer to the resume within ${this.options.attemptTimeoutMs} ms`));
      }, this.options.attemptTimeoutMs);
      timer.unref?.();
      let settled = false;
      const done = (err?: TetherError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        mux.off('ack', onAck);
        mux.off('close', onClose);
        if (this.awaitingOffset === mux) this.awaitingOffset = undefined;
        // The old path died while this attempt was under way: now the stream is detached.
        if (err && this.state !== 'closed' && !this.att && !this.detached) this.detach(this.lostWhileMoving ?? err);
        this.lostWhileMoving = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onClose = (err: TetherError | undefined): void => {
        const why = err ?? createError(ErrorCode.STREAM_CLOSED, 'resume attachment closed');
        this.trace('resume: attachment closed before its first ACK', { mux: mux.id, err: why, bySession: mux.closedBySession });
        if (isResumeRefusal(why) && !mux.closedBySession) this.finish(why);
        done(why);
      };
      const onAck = (offset: number): void => {
        if (this.state === 'closed') {
          mux.reset(WireCode.CANCELLED, 'stream closed');
          return done(this.error);
        }
        this.trace('resume: first ACK', { mux: mux.id, offset, attached: this.att !== undefined });
        // The far end's first ACK on a resumed attachment is what it has received. Whatever the
        // old path delivered since the hello went out comes again on the new one: skip it.
        const old = this.att?.stream;
        this.release();
        old?.reset(WireCode.STREAM_MOVED, 'moved to another path');
        this.skip = this.received - this.helloReceived;
        if (!this.attach(mux, offset)) return done(this.error);
        done();
        // What the old path delivered after the hello was not acknowledged there: say it here.
        if (this.receivedWithFin() > this.helloOffset) this.sendAckNow();
      };
      mux.on('ack', onAck);
      mux.once('close', onClose);
    });
  }

  /** The old path of a move failed before the new one answered (reported if the move fails too). */
  private lostWhileMoving: TetherError | undefined;

  /**
   * Acceptor: answers a RESUME hello that arrived on `mux` (pending). Refuses with a coded
   * OPEN_ERR for a wrong or replayed proof (the stream itself carries on: the request may be
   * forged) or an offset outside the replay buffer (the stream is then reset: it cannot
   * continue). On success the old attachment, if any, is told the stream moved.
   */
  acceptResume(mux: MuxStream, hello: Extract<StreamHello, { kind: 'resume' }>): boolean {
    if (!hello.id.equals(this.id) || !verifyResumeProof(this.secret, hello) || hello.attempt <= this.attempt) {
      mux.reject(WireCode.RESUME_SECRET, 'resume refused: wrong proof of the stream secret');
      return false;
    }
    this.attempt = hello.attempt;
    this.trace('acceptResume', { attempt: hello.attempt, offset: hello.offset, mux: mux.id, attached: this.att !== undefined, state: this.state });
    if (this.state === 'closed') {
      if (this.error) {
        mux.reject(WireCode.RESUME_UNKNOWN, `resume refused: the stream was reset (${this.error.message})`);
        return false;
      }
      // Both ends finished here, but the far end missed our last ACK: say it again, and end.
      mux.accept();
      mux.sendAck(this.receivedWithFin());
      mux.end();
      return true;
    }
    const problem = this.offsetProblem(hello.offset);
    if (problem) {
      mux.reject(WireCode.RESUME_OFFSET, problem);
      const old = this.att?.stream;
      this.release();
      old?.reset(WireCode.RESUME_OFFSET, problem);
      this.finish(createError(ErrorCode.RESUME_OFFSET, problem));
      return false;
    }
    if (this.att) {
      const old = this.att.stream;
      this.detach(createError(ErrorCode.STREAM_MOVED, 'resumed on another path'), false);
      old.reset(WireCode.STREAM_MOVED, 'resumed on another path');
    }
    mux.accept();
    mux.sendAck(this.receivedWithFin());
    this.attach(mux, hello.offset);
    return true;
  }

  // --- attachments ---------------------------------------------------------------------------

  /** Starts using `mux`; the far end has received `peerOffset`. Returns false if that is impossible. */
  private attach(mux: MuxStream, peerOffset: number): boolean {
    const problem = this.offsetProblem(peerOffset);
    if (problem) {
      mux.reset(WireCode.RESUME_OFFSET, problem);
      this.finish(createError(ErrorCode.RESUME_OFFSET, problem));
      return false;
    }
    const resumed = this.attempt > 0;
    this.clearResumeTimer();
    this.detached = false;
    this.onAcked(peerOffset, false);
    const onData = (chunk: Buffer): void => this.onData(chunk);
    const onAck = (offset: number, fin: boolean): void => this.onAck(offset, fin);
    const onDrain = (): void => {
      this.attBlocked = false;
      this.maybeDrain();
    };
    const onClose = (err: TetherError | undefined): void => this.onAttachmentClosed(mux, err);
    mux.on('data', onData);
    mux.on('ack', onAck);
    mux.on('drain', onDrain);
    mux.on('close', onClose);
    this.att = {
      stream: mux,
      off: () => {
        mux.off('data', onData);
        mux.off('ack', onAck);
        mux.off('drain', onDrain);
        mux.off('close', onClose);
      },
    };
    this.attBlocked = false;
    // Everything the far end has not received goes again, in order, then our end if it is due.
    for (const chunk of this.replay) {
      if (!mux.write(chunk)) this.attBlocked = true;
    }
    if (this.finLocal) mux.sendAck(this.receivedWithFin(), true);
    if (resumed) {
      this.resumes += 1;
      this.emit('resumed', this.attempt);
    }
    this.maybeDrain();
    this.maybeComplete();
    return true;
  }

  private onAttachmentClosed(mux: MuxStream, err: TetherError | undefined): void {
    if (this.att?.stream !== mux || this.state === 'closed') return;
    this.trace('attachment closed', { mux: mux.id, err: err ?? 'none', bySession: mux.closedBySession, moving: this.awaitingOffset !== undefined });
    // A whole connection going away is always the path's fault, whatever its code.
    if (err === undefined || mux.closedBySession || isPathFailure(err)) {
      const why = err ?? createError(ErrorCode.CONNECTION_LOST, 'the path closed before the stream finished');
      if (this.awaitingOffset) {
        // A move is under way: the new path takes over if the far end answers there.
        this.release();
        this.lostWhileMoving = why;
        // Bounded like a detached stream: the move's answer may never come.
        this.armResumeTimer(why);
        return;
      }
      this.detach(why);
      return;
    }
    this.release();
    this.finish(err);
  }

  /** Stops using the current attachment and waits (bounded) for a resume. */
  private detach(err: TetherError, announce = true): void {
    this.release();
    if (this.detached) return;
    this.trace('detached', { err, announce });
    this.detached = true;
    // A path lost during a move already started the clock.
    if (!this.resumeTimer) this.armResumeTimer(err);
    if (announce) this.emit('detached', err);
  }

  /** Resets the stream with RESUME_TIMEOUT unless a path takes it within resumeTimeoutMs. */
  private armResumeTimer(err: TetherError): void {
    this.clearResumeTimer();
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      this.awaitingOffset?.reset(WireCode.CANCELLED, 'resume timed out');
      this.finish(createError(ErrorCode.RESUME_TIMEOUT, `stream not resumed within ${this.options.resumeTimeoutMs} ms (${err.message})`));
    }, this.options.resumeTimeoutMs);
  }

  /** Drops the current attachment without touching it. */
  private release(): void {
    if (!this.att) return;
    this.att.off();
    this.att = undefined;
    // Whatever it delivered and the consumer has not taken yet is no longer its credit.
    this.earlierUnconsumed = this.received - this.consumedTotal;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }


  // --- receiving -----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.skip > 0) {
      // Already received on the old path before the move: give the credit back, pass nothing on.
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      this.att?.stream.consume(n);
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    if (this.finRemote) {
      this.reset(WireCode.PROTOCOL_ERROR, 'data after the end of the stream');
      return;
    }
    this.received += chunk.length;
    this.delivery.deliver(chunk);
    this.scheduleAck();
  }

  private onAck(offset: number, fin: boolean): void {
    if (fin && !this.finRemote) {
      this.finRemote = true;
      if (this.state === 'open') this.state = 'half-closed-remote';
      this.delivery.deliver(null);
      this.sendAckNow();
    }
    if (!this.onAcked(offset, true)) return;
    this.maybeComplete();
  }

  /** Trims the replay buffer up to `offset`; false when the offset is impossible (stream reset). */
  private onAcked(offset: number, fromPeer: boolean): boolean {
    const limit = this.sentWithFin();
    if (offset > limit || offset < this.acked) {
      if (fromPeer && offset < this.acked) return true; // stale, reordered across paths: harmless
      this.reset(WireCode.PROTOCOL_ERROR, `ACK for offset ${offset} but only ${limit} sent`);
      return false;
    }
    let drop = Math.min(offset, this.written) - this.acked;
    this.acked += drop;
    this.replayBytes -= drop;
    while (drop > 0) {
      const head = this.replay[0];
      if (head.length <= drop) {
        this.replay.shift();
        drop -= head.length;
      } else {
        this.replay[0] = head.subarray(drop);
        drop = 0;
      }
    }
    if (this.finLocal && offset === this.written + 1 && !this.finAcked) {
      this.finAcked = true;
      if (this.state === 'open') this.state = 'half-closed-local';
      this.emit('finish');
    }
    this.maybeDrain();
    return true;
  }

  /**
   * Acknowledges at once past `ackBytes`, within `ackDelayMs` past ACK_SOON_BYTES, else within
   * `lazyAckDelayMs`; data this end writes first carries the ACK with it (write()).
   */
  private scheduleAck(): void {
    const waiting = this.received - this.ackSent;
    if (waiting >= this.options.ackBytes) {
      this.sendAckNow();
      return;
    }
    const soon = waiting >= ACK_SOON_BYTES;
    if (this.ackTimer) {
      if (this.ackTimerSoon || !soon) return;
      clearTimeout(this.ackTimer);
    }
    this.ackTimerSoon = soon;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.sendAckNow();
    }, soon ? this.options.ackDelayMs : this.options.lazyAckDelayMs);
    this.ackTimer.unref();
  }

  private sendAckNow(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (!this.att) return;
    this.ackSent = this.received;
    this.att.stream.sendAck(this.ackOffset(), false);
  }

  private receivedWithFin(): number {
    return this.received + (this.finRemote ? 1 : 0);
  }

  /**
   * The offset to acknowledge on the current attachment: what we received, except on the old
   * path of a move under way, which acknowledges no more than the hello's offset (helloOffset).
   */
  private ackOffset(): number {
    const moving = this.awaitingOffset !== undefined && this.att !== undefined && this.att.stream !== this.awaitingOffset;
    return moving ? Math.min(this.receivedWithFin(), this.helloOffset) : this.receivedWithFin();
  }

  private sentWithFin(): number {
    return this.written + (this.finLocal ? 1 : 0);
  }

  private offsetProblem(peerOffset: number): string | undefined {
    const limit = this.sentWithFin();
    if (!Number.isSafeInteger(peerOffset) || peerOffset < this.acked || peerOffset > limit) {
      return `resume offset ${peerOffset} is outside the replay buffer [${this.acked}, ${limit}]`;
    }
    return undefined;
  }



  // --- sending and closing -------------------------------------------------------------------

  private writable(): boolean {
    return this.replayBytes < this.options.replayBufferBytes && !this.attBlocked;
  }

  private maybeDrain(): void {
    if (this.needDrain && this.writable() && this.state !== 'closed') {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private maybeComplete(): void {
    if (this.state === 'closed' || !this.finAcked || !this.finRemote) return;
    const att = this.att;
    this.release();
    // The far end learns the same from our ACK of its end; the MuxStream closes once both END.
    // (If the path dies before that last ACK arrives, an acceptor that finished first answers
    // the opener's resume; an opener that finished first is not there to ask, and the acceptor,
    // which has every byte and has ended its target, gives up after its resume timeout.)
    att?.stream.end();
    this.finish(undefined);
  }

  private clearResumeTimer(): void {
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
  }

  private finish(err: TetherError | undefined): void {
    if (this.state === 'closed' && this.closedEmitted) return;
    this.closedEmitted = true;
    this.trace('closed', { err: err ?? 'none' });
    this.state = 'closed';
    this.error = err;
    this.detached = false;
    this.clearResumeTimer();
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.replay = [];
    this.replayBytes = 0;
    this.emit('close', err);
  }

  private closedEmitted = false;

  private trace(message: string, fields: Record<string, unknown> = {}): void {
    debugLog(`resumable ${this.role} ${this.key.slice(0, 8)}`, message, fields);
  }
}


