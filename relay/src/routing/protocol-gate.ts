import {
  DEFAULT_SNIFF_BOUND,
  describeSniff,
  ProtocolSniffer,
  protocolAllowed,
  SNIFFED_PROTOCOLS,
  type AllowableProtocol,
  type SniffedProtocol,
  type SniffResult,
} from '@tether/shared';
import type { Counter, Labels, Metrics } from '../ports/metrics.js';
import type { Link } from './link.js';
import type { Route } from './route.js';

/**
 * Bytes the gate may hold for the undecided streams of one opener link (all its streams
 * together). Held bytes sit outside the link's send buffers, so they get a budget of their own:
 * past it a stream is decided on what it sent so far.
 */
export const DEFAULT_HELD_BYTES_PER_LINK = 1024 * 1024;

/** One stream's classification, kept with its route on the node of its connector. */
export class StreamSniff {
  readonly sniffer: ProtocolSniffer;
  /** The tunnel's allow-list: the opener's bytes are held until the protocol is known (none: only observed). */
  readonly allow: readonly AllowableProtocol[] | undefined;
  /** Counted in the by-protocol metric. */
  counted = false;
  /** Bytes held for it, counted against its opener link's budget. */
  held = 0;

  constructor(allow: readonly AllowableProtocol[] | undefined, bound: number) {
    this.allow = allow && allow.length > 0 ? allow : undefined;
    this.sniffer = new ProtocolSniffer(bound);
  }

  /** Still looking at what the opener sends. */
  get undecided(): boolean {
    return this.sniffer.result === undefined;
  }
}

/** What the router does with one DATA frame from the opener of an undecided stream. */
export type GateVerdict =
  /** Forward it as it is (observed only, or nothing held before it). */
  | { kind: 'pass' }
  /** Kept by the gate (counted against the sender's credit already); nothing goes to the host yet. */
  | { kind: 'hold' }
  /** Allowed: send `held` (what was kept before this frame) to the host, then this frame. */
  | { kind: 'release'; held: Buffer }
  /** Not allowed: reset the stream with PROTOCOL_NOT_ALLOWED and `message`; nothing was sent to the host. */
  | { kind: 'refuse'; message: string; result: SniffResult };

/** The fields `stream.closed` and refusals are audited with. */
export type ProtocolDetail = Record<string, string>;

/**
 * Protocol detection of routed streams (docs/protocols.md): the router hands every DATA payload
 * its opener sends to the stream's classifier until it decides. Without an allow-list it only
 * observes; with one, the opener's bytes are held (at most the classifier's bound) until the
 * protocol is known, then passed on or the stream refused, so no byte of a refused stream reaches
 * the host. Counts `tether_streams_by_protocol_total{protocol}`.
 */
export class ProtocolGate {
  private readonly byProtocol: Counter;
  /** Label objects made once: counting costs no allocation. */
  private readonly labels = new Map<SniffedProtocol, Labels>();
  private readonly bound: number;
  private readonly heldBudget: number;
  /** Bytes held per opener link. */
  private readonly heldPerLink = new Map<Link, number>();

  constructor(metrics: Metrics, bound = DEFAULT_SNIFF_BOUND, heldBytesPerLink = DEFAULT_HELD_BYTES_PER_LINK) {
    this.bound = bound;
    this.heldBudget = heldBytesPerLink;
    this.byProtocol = metrics.counter({ name: 'tether_streams_by_protocol_total', help: 'Streams classified by what their first bytes speak (at the node of the connector)', labelNames: ['protocol'] });
    for (const protocol of SNIFFED_PROTOCOLS) this.labels.set(protocol, { protocol });
  }

  /** A stream routed at its connector's node: watch what its opener sends, under the tunnel's allow-list. */
  watch(route: Route, allow: readonly AllowableProtocol[] | undefined): void {
    route.sniff = new StreamSniff(allow, this.bound);
  }

  /**
   * A DATA frame from the opener of `route` while its protocol is undecided. With `fin`, or
   * `stalled` while held (the opener used up its credit, which the host renews only for bytes it
   * has seen), what came is all there is to decide on.
   */
  data(route: Route, payload: Buffer, fin: boolean, stalled = false): GateVerdict {
    const sniff = route.sniff!;
    const heldBefore = sniff.sniffer.seen;
    // An opener that ends without a byte said nothing to refuse (a server-first protocol).
    if (payload.length === 0 && heldBefore === 0) return { kind: 'pass' };
    let result = sniff.sniffer.push(payload);
    const link = route.opener.link;
    const overBudget = sniff.allow !== undefined && (this.heldPerLink.get(link) ?? 0) + payload.length > this.heldBudget;
    if (!result && (fin || (sniff.allow && (stalled || overBudget)))) result = sniff.sniffer.finish();
    if (!result) {
      if (!sniff.allow) return { kind: 'pass' };
      // Held: the sniffer keeps the bytes (all of them: undecided means under its bound).
      sniff.held += payload.length;
      this.heldPerLink.set(link, (this.heldPerLink.get(link) ?? 0) + payload.length);
      return { kind: 'hold' };
    }
    this.unhold(route);
    this.count(sniff);
    if (!sniff.allow) return { kind: 'pass' };
    if (!protocolAllowed(sniff.allow, result.protocol)) {
      return { kind: 'refuse', result, message: `tunnel ${route.tunnel} carries only ${sniff.allow.join(', ')}; this stream speaks ${describeSniff(result)}` };
    }
    if (heldBefore === 0) return { kind: 'pass' };
    // A copy: the sniffer's buffer is its own (and the frame that follows may be sent first otherwise).
    return { kind: 'release', held: Buffer.from(sniff.sniffer.held.subarray(0, heldBefore)) };
  }

  /**
   * The stream ended: what its audit record says of its protocol (an undecided one is decided
   * on what it sent), or undefined for a stream not classified here (carried in from a peer node).
   */
  closed(route: Route): ProtocolDetail | undefined {
    const sniff = route.sniff;
    if (!sniff) return undefined;
    this.unhold(route);
    const result = sniff.sniffer.finish();
    this.count(sniff);
    return protocolDetail(result);
  }

  /** Bytes held for `route`'s undecided start are no longer held. */
  private unhold(route: Route): void {
    const sniff = route.sniff!;
    if (sniff.held === 0) return;
    const link = route.opener.link;
    const left = (this.heldPerLink.get(link) ?? 0) - sniff.held;
    sniff.held = 0;
    if (left > 0) this.heldPerLink.set(link, left);
    else this.heldPerLink.delete(link);
  }

  /** Bytes held now for the undecided streams of `link`. */
  heldFor(link: Link): number {
    return this.heldPerLink.get(link) ?? 0;
  }

  private count(sniff: StreamSniff): void {
    if (sniff.counted) return;
    sniff.counted = true;
    this.byProtocol.inc(this.labels.get(sniff.sniffer.finish().protocol));
  }
}

/** A classification as audit detail fields: `protocol`, and `sni`, `alpn`, `sshVersion` or `method` when known. */
export function protocolDetail(r: SniffResult): ProtocolDetail {
  const detail: ProtocolDetail = { protocol: r.protocol };
  if (r.sni) detail.sni = r.sni;
  if (r.alpn) detail.alpn = r.alpn.join(',');
  if (r.sshVersion) detail.sshVersion = r.sshVersion;
  if (r.method) detail.method = r.method;
  return detail;
}
