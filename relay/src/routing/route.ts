import type { OpenTrace } from '../tracing/open-tracing.js';
import type { Link } from './link.js';
import type { StreamSniff } from './protocol-gate.js';

/** One end of a routed stream, as seen from the link it lives on. */
export interface RouteEnd {
  link: Link;
  /** The stream id on `link`. */
  id: number;
  peer: RouteEnd;
  /** Bytes this end may still send (credit granted by the peer and passed on by the relay). */
  credit: number;
  /**
   * Credit the peer granted this end that the relay holds back while the peer's link has as
   * much credit outstanding as it may buffer; passed on (as WINDOW) when that link drains.
   */
  withheld: number;
  /** True once the acceptor accepted the stream. */
  open: boolean;
  /** True once this end sent FIN. */
  fin: boolean;
  route: Route;
  /** Byte-rate shaping: credit for this end the peer granted and the relay holds until `shapedTimer` fires. */
  shaped?: number;
  shapedTimer?: NodeJS.Timeout;
}

export interface Route {
  tunnel: string;
  /** The end that sent OPEN. */
  opener: RouteEnd;
  /** The end the relay opened the stream towards. */
  acceptor: RouteEnd;
  openTimer: NodeJS.Timeout | undefined;
  /** Opened under a grant that lapses: the access is decided again then (and the stream reset if it no longer holds). */
  accessTimer?: NodeJS.Timeout;
  /** Payload bytes from the opener to the acceptor (up) and back (down), for the audit record of its end. */
  up: number;
  down: number;
  /** Monotonic time the OPEN was routed. */
  startedAt: number;
  /** Monotonic time the OPEN arrived (before its look-ups), for the open latency metric. */
  openArrivedAt?: number;
  /** Its OPEN holds a place in the adaptive open limit (given back when answered or gone). */
  admitted?: boolean;
  /**
   * A UDP flow (a stream to a UDP tunnel, docs/udp.md): DATAGRAM frames are routed along it,
   * with the stream ids of its ends as their flow ids.
   */
  udp?: boolean;
  /** Its OPEN's span until answered, when tracing is on. */
  trace?: OpenTrace;
  /** What its opener's first bytes speak, on the node of the connector (docs/protocols.md). */
  sniff?: StreamSniff;
}

/**
 * Builds the two cross-linked ends of a new stream, both without credit: the router grants the
 * acceptor the opener's window, and the opener the acceptor's when its OPEN_OK arrives.
 */
export function createRoute(tunnel: string, opener: Link, openerId: number, acceptor: Link, acceptorId: number, startedAt = 0): Route {
  const route = { tunnel, openTimer: undefined, up: 0, down: 0, startedAt } as Route;
  const openerEnd = { link: opener, id: openerId, credit: 0, withheld: 0, open: false, fin: false, route } as RouteEnd;
  const acceptorEnd: RouteEnd = { link: acceptor, id: acceptorId, peer: openerEnd, credit: 0, withheld: 0, open: false, fin: false, route };
  openerEnd.peer = acceptorEnd;
  route.opener = openerEnd;
  route.acceptor = acceptorEnd;
  return route;
}
