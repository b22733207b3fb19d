import type { Frame } from '@tether/shared';
import type { Identity } from '../identity.js';
import type { LinkRole } from './link-roles.js';
import type { LinkTransport } from './link-transport.js';
import type { RouteEnd } from './route.js';

/** A frame of a stream whose OPEN is still being resolved, kept to be handled after it. */
export interface DeferredFrame {
  frame: Frame;
  message: Buffer;
  start: number;
  end: number;
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
  /** Bytes handed to the transport and not yet written out. */
  buffered = 0;
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
  bytesIn = 0;
  bytesOut = 0;
  private readonly drainBelow: number;
  private readonly onDrain: (link: Link) => void;

  constructor(role: LinkRole, identity: Identity, transport: LinkTransport, tunnel: string | undefined, now: number, drainBelow: number, onDrain: (link: Link) => void) {
    this.role = role;
    this.identity = identity;
    this.transport = transport;
    this.tunnel = tunnel;
    this.nextId = role.firstLocalId;
    this.lastSeen = now;
    this.drainBelow = drainBelow;
    this.onDrain = onDrain;
  }

  /** Queues one message; the write callback keeps `buffered` exact. */
  send(message: Buffer): void {
    if (this.closed) return;
    const n = message.length;
    this.buffered += n;
    this.bytesOut += n;
    this.transport.send(message, () => {
      this.buffered -= n;
      if (this.blocked.size > 0 && this.buffered <= this.drainBelow) this.onDrain(this);
    });
  }

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
