import type { Frame, TunnelSettings } from '@tether/shared';
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
  /** At or below this the link has drained. */
  drainBelow: number;
  onCongested(link: Link): void;
  onDrained(link: Link): void;
}

/** Largest batch of relay-made frames in one message: far below any peer's message limit. */
const BATCH_BYTES = 256 * 1024;

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
   */
  send(message: Buffer): void {
    if (this.closed) return;
    this.flush();
    this.write(message);
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
  }

  private write(message: Buffer): void {
    // Everything written to this link while the current batch of work runs (the frames of one
    // read from every source, forwarded or made here) leaves in one write once it is done.
    if (!this.corked && this.transport.cork?.()) {
      this.corked = true;
      queueMicrotask(this.uncork);
    }
    const cost = message.length + this.watch.sendCost;
    this.buffered += cost;
    this.bytesOut += message.length;
    if (this.buffered > this.watch.limit && this.congestedSince === undefined) this.watch.onCongested(this);
    this.transport.send(message, () => {
      this.buffered -= cost;
      this.lastWriteDoneAt = this.watch.now();
      if (this.buffered <= this.watch.drainBelow && (this.congestedSince !== undefined || this.blocked.size > 0 || this.withheldTotal > 0)) this.watch.onDrained(this);
    });
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
