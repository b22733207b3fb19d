import type { WebSocket } from 'ws';
import type { Identity } from './identity.js';

/** One end of a routed stream, as seen from the link it lives on. */
export interface RouteEnd {
  link: Link;
  /** The stream id on `link`. */
  id: number;
  peer: RouteEnd;
  /** Bytes this end may still send (credit granted by the peer). */
  credit: number;
  /** True once the host accepted the stream. */
  open: boolean;
  /** True once this end sent FIN. */
  fin: boolean;
  route: Route;
}

export interface Route {
  tunnel: string;
  connector: RouteEnd;
  host: RouteEnd;
  openTimer: NodeJS.Timeout | undefined;
}

/**
 * Builds the two cross-linked ends of a new stream. The host end starts with the connector's
 * window as credit; the connector gets credit when the host's OPEN_OK arrives.
 */
export function createRoute(tunnel: string, connector: Link, connectorId: number, host: Link, hostId: number, window: number): Route {
  const route = { tunnel, openTimer: undefined } as Route;
  const connectorEnd = { link: connector, id: connectorId, credit: 0, open: false, fin: false, route } as RouteEnd;
  const hostEnd: RouteEnd = { link: host, id: hostId, peer: connectorEnd, credit: window, open: false, fin: false, route };
  connectorEnd.peer = hostEnd;
  route.connector = connectorEnd;
  route.host = hostEnd;
  return route;
}

export type LinkKind = 'host' | 'connector';

let nextLinkId = 1;

/**
 * A relay-side WebSocket to a host or connector: its routed streams and the bytes queued
 * towards it. Bytes are counted from send() to the socket write callback so the router can
 * pause whoever feeds a link that cannot keep up.
 */
export class Link {
  readonly linkId = nextLinkId++;
  readonly kind: LinkKind;
  readonly identity: Identity;
  readonly ws: WebSocket;
  readonly tunnel: string | undefined;
  readonly streams = new Map<number, RouteEnd>();
  readonly connectedAt = Date.now();
  /** Bytes handed to the socket and not yet written out. */
  buffered = 0;
  /** Links paused because this one was over its buffer limit. */
  readonly blocked = new Set<Link>();
  /** How many congested links this one is waiting for. */
  pausedFor = 0;
  lastPeerId = 0;
  nextId = 2;
  lastSeen = Date.now();
  rttMs = 0;
  pingSentAt = 0;
  closed = false;
  goingAway = false;
  bytesIn = 0;
  bytesOut = 0;
  private readonly drainBelow: number;
  private readonly onDrain: (link: Link) => void;

  constructor(kind: LinkKind, identity: Identity, ws: WebSocket, tunnel: string | undefined, drainBelow: number, onDrain: (link: Link) => void) {
    this.kind = kind;
    this.identity = identity;
    this.ws = ws;
    this.tunnel = tunnel;
    this.drainBelow = drainBelow;
    this.onDrain = onDrain;
  }

  /** Queues one message; the write callback keeps `buffered` exact. */
  send(message: Buffer): void {
    if (this.closed) return;
    const n = message.length;
    this.buffered += n;
    this.bytesOut += n;
    this.ws.send(message, { binary: true }, () => {
      this.buffered -= n;
      if (this.blocked.size > 0 && this.buffered <= this.drainBelow) this.onDrain(this);
    });
  }

  pause(): void {
    if (this.pausedFor++ === 0) this.ws.pause();
  }

  resume(): void {
    if (this.pausedFor > 0 && --this.pausedFor === 0 && !this.closed) this.ws.resume();
  }

  /** A short label for logs. */
  get label(): string {
    return `${this.kind}#${this.linkId}(${this.identity.name}${this.tunnel ? `/${this.tunnel}` : ''})`;
  }
}
