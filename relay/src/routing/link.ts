import { SMALL_QUEUE_BYTES, type Frame, type TunnelSettings } from '@tether/shared';
import type { Identity } from '../identity.js';
import type { LinkRole } from './link-roles.js';
import type { LinkTransport } from './link-transport.js';
import type { RouteEnd } from './route.js';
import type { OpenTrace } from '../tracing/open-tracing.js';

/** A frame of a stream whose OPEN is still being resolved, kept to be handled after it. */
export interface DeferredFrame {
  frame: Frame;
  message: Buffer;
  start: number;
  end: number;
}

/** A received message not handled yet (the link used up its work budget for this turn). */
export interface InboxEntry {
  data: Buffer;
  /** Offset of the first frame not handled. */
  offset: number;
}

/** An OPEN waiting for its store and registry look-ups. */
export interface PendingOpen {
  id: number;
  tunnel: string;
  window: number;
  metadata: Buffer;
  /** Monotonic ms when it arrived. */
  arrivedAt: number;
  /** Frames of this stream that arrived after the OPEN, handled once it is settled. */
  deferred: DeferredFrame[];
  /** Its span, when tracing is on. */
  trace?: OpenTrace;
}

/** How the router watches what a link holds. */
export interface LinkWatch {
  /** Bytes counted for every send on top of its length. */
  sendCost: number;
  /** Monotonic milliseconds. */
  now(): number;
  /** Above this many bytes held the link is congested. */
  limit: number;
  /**
   * Bytes the link hands its transport before forwarded frames wait in their streams' queues
   * (see Link.send): below `limit`, so the queues are what a congested link holds.
   */
  transportBudget: number;
  /** At or below this the link has drained. */
  drainBelow: number;
  onCongested(link: Link): void;
  onDrained(link: Link): void;
}

/** Largest batch of relay-made frames in one message: far below any peer's message limit. */
const BATCH_BYTES = 256 * 1024;

/**
 * A forwarded frame is a view into the message it arrived in. One whose message is more than
 * this many times its size is copied before it is queued, so what a link holds keeps at most
 * that much memory alive per byte it counts.
 */
const PIN_RATIO = 4;

/** Frames of one stream waiting for a link's transport, oldest first. */
interface StreamQueue {
  frames: Buffer[];
  bytes: number;
}

let nextLinkId = 1;

/**
 * A relay-side link to a host or connector: its routed streams and the bytes queued towards it.
 * Bytes are counted from send() to the transport's write callback so the router can pause
 * whoever feeds a link that cannot keep up.
 */
export class Link {
  readonly linkId = nextLinkId++;
  readonly role: LinkRole;
  readonly identity: Identity;
  readonly transport: LinkTransport;
  readonly tunnel: string | undefined;
  readonly streams = new Map<number, RouteEnd>();
  /** OPENs from this link not settled yet, by stream id. */
  readonly pending = new Map<number, PendingOpen>();
  /** Bytes handed to the transport and not yet written out, plus a fixed cost per send. */
  buffered = 0;
  /** Credit the peers of this link's streams hold: the most they may still send towards it. */
  creditIn = 0;
  /** Credit granted by this link's streams that the relay holds back (see RouteEnd.withheld). */
  withheldTotal = 0;
  /** Messages (or the rest of one) waiting for this link's next turn. */
  readonly inbox: InboxEntry[] = [];
  /** Frames the relay made itself (PONG, OPEN, OPEN_ERR, RESET, …) waiting to leave as one message. */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** Since when this link has held more than its buffer limit (monotonic ms); undefined when under. */
  congestedSince: number | undefined;
  congestionTimer: NodeJS.Timeout | undefined;
  /** When a write to this link last completed (the watch's clock): progress while congested. */
  lastWriteDoneAt = 0;
  /** Links paused because this one was over its buffer limit. */
  readonly blocked = new Set<Link>();
  /** How many congested links this one is waiting for. */
  pausedFor = 0;
  lastPeerId = 0;
  nextId: number;
  lastSeen: number;
  rttMs = 0;
  pingSentAt = 0;
  closed = false;
  goingAway = false;
  /** True while this link holds the lease of its tunnel. */
  registered = false;
  /** A host link: what it asked of the relay for its tunnel (kept with the lease). */
  settings: TunnelSettings | undefined;
  bytesIn = 0;
  bytesOut = 0;
  /** Where the link comes from (the peer's address), for per-address quotas. */
  readonly address: string;
  /** Wall-clock ms when it was attached. */
  readonly attachedAt: number;
  /** What the client said it is (its User-Agent on the upgrade), for the admin views. */
  client: string | undefined;
  private readonly watch: LinkWatch;

  constructor(role: LinkRole, identity: Identity, transport: LinkTransport, tunnel: string | undefined, address: string, now: number, watch: LinkWatch) {
    this.role = role;
    this.identity = identity;
    this.transport = transport;
    this.tunnel = tunnel;
    this.address = address;
    this.nextId = role.firstLocalId;
    this.lastSeen = now;
    this.attachedAt = now;
    this.watch = watch;
  }

  /**
   * Queues one message. What it holds is counted until the transport's write callback, with a
   * fixed cost per send on top of the bytes (a queued send costs memory however small it is).
   *
   * A frame of a routed stream names the stream's end on this link (`end`). While the transport
   * holds `transportBudget` bytes not yet written out (its peer reads slower than the relay is
   * fed), such frames wait in their stream's queue instead of behind everything else, and go out
   * as the transport drains: small queues first, then a frame of each stream in turn. A shell's
   * keystroke waits for half a budget, not for the megabytes of every bulk stream sharing the
   * link; a stream's frames keep their order.
   */
  send(message: Buffer, end?: RouteEnd): void {
    if (this.closed) return;
    this.flush();
    // A tiny frame cut from a megabyte message would otherwise keep the megabyte alive while it
    // waits here or in the socket's buffer, counted as a few bytes: a client feeding such
    // messages towards a link that reads slowly could pin far more than the link's limit.
    if (message.length * PIN_RATIO < message.buffer.byteLength) message = Buffer.from(message);
    if (end !== undefined) {
      const queue = this.waiting.size > 0 ? this.waiting.get(end) : undefined;
      if (queue !== undefined || this.inTransport >= this.watch.transportBudget) {
        this.hold(end, queue, message);
        return;
      }
    }
    this.write(message);
  }

  /** Drops the frames `end`'s stream has waiting (the relay reset it). */
  dropQueued(end: RouteEnd): void {
    const queue = this.waiting.get(end);
    if (queue === undefined) return;
    this.waiting.delete(end);
    this.buffered -= queue.bytes + queue.frames.length * this.watch.sendCost;
    this.checkDrained();
  }

  /**
   * Queues a frame the relay makes itself. Frames queued within one batch of work leave as one
   * WebSocket message (of at most BATCH_BYTES), and always before anything sent after them.
   */
  queue(frame: Buffer): void {
    if (this.closed) return;
    this.queued.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= BATCH_BYTES) this.flush();
    else if (this.queued.length === 1) queueMicrotask(() => this.flush());
  }

  /** Sends what is queued now. */
  flush(): void {
    if (this.queued.length === 0 || this.closed) return;
    const frames = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    this.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  /** Drops what is queued (the link is gone). */
  discard(): void {
    this.queued = [];
    this.queuedBytes = 0;
    this.waiting.clear();
  }

  /** Bytes handed to the transport and not yet written out. */
  private inTransport = 0;
  /** Streams with frames waiting for the transport (by their end on this link), in turn order. */
  private readonly waiting = new Map<RouteEnd, StreamQueue>();
  private pumping = false;

  private write(message: Buffer): void {
    this.transmit(message, this.account(message));
  }

  /** Counts `message` as held by this link; returns its cost. */
  private account(message: Buffer): number {
    const cost = message.length + this.watch.sendCost;
    this.buffered += cost;
    if (this.buffered > this.watch.limit && this.congestedSince === undefined) this.watch.onCongested(this);
    return cost;
  }

  private hold(end: RouteEnd, queue: StreamQueue | undefined, message: Buffer): void {
    if (queue === undefined) {
      queue = { frames: [], bytes: 0 };
      this.waiting.set(end, queue);
    }
    queue.frames.push(message);
    queue.bytes += message.length;
    this.account(message);
  }

  /** Hands the transport what it has room for from the streams' queues. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      const cost = this.watch.sendCost;
      for (const [end, queue] of this.waiting) {
        if (queue.bytes > SMALL_QUEUE_BYTES) continue;
        this.waiting.delete(end);
        for (const frame of queue.frames) this.transmit(frame, frame.length + cost);
      }
      // Round robin: a stream that sent a frame goes to the back of the turn order.
      while (this.waiting.size > 0 && this.inTransport < this.watch.transportBudget && !this.closed) {
        const [end, queue] = this.waiting.entries().next().value as [RouteEnd, StreamQueue];
        const frame = queue.frames.shift()!;
        queue.bytes -= frame.length;
        this.waiting.delete(end);
        if (queue.frames.length > 0) this.waiting.set(end, queue);
        this.transmit(frame, frame.length + cost);
      }
    } finally {
      this.pumping = false;
    }
  }

  private transmit(message: Buffer, cost: number): void {
    // Everything written to this link while the current batch of work runs (the frames of one
    // read from every source, forwarded or made here) leaves in one write once it is done.
    if (!this.corked && this.transport.cork?.()) {
      this.corked = true;
      queueMicrotask(this.uncork);
    }
    const length = message.length;
    this.inTransport += length;
    this.bytesOut += length;
    this.transport.send(message, () => {
      this.inTransport -= length;
      this.buffered -= cost;
      this.lastWriteDoneAt = this.watch.now();
      if (this.waiting.size > 0 && this.inTransport <= this.watch.transportBudget / 2) this.pump();
      this.checkDrained();
    });
  }

  private checkDrained(): void {
    if (this.buffered <= this.watch.drainBelow && (this.congestedSince !== undefined || this.blocked.size > 0 || this.withheldTotal > 0)) this.watch.onDrained(this);
  }

  private corked = false;
  private readonly uncork = (): void => {
    // Frames the relay made in this batch go in the same write.
    this.flush();
    this.corked = false;
    this.transport.uncork?.();
  };

  pause(): void {
    if (this.pausedFor++ === 0) this.transport.pause();
  }

  resume(): void {
    if (this.pausedFor > 0 && --this.pausedFor === 0 && !this.closed) this.transport.resume();
  }

  /** A short label for logs. */
  get label(): string {
    return `${this.role.name}#${this.linkId}(${this.identity.name}${this.tunnel ? `/${this.tunnel}` : ''})`;
  }
}
