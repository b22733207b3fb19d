import { decodeOpenMetadata, WireCode } from '@tether/shared';
import { LiveTally } from './live-tally.js';
import type { Counter, Gauge, Histogram, Metrics } from '../ports/metrics.js';
import { RateLimitCounter } from '../limits/rate-limit-counter.js';
import type { LimitDecision } from '../limits/rate-limits.js';

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(WireCode));

/** A wire code as a label: codes a peer may send are any u16, so unknown ones are `other`. */
const codeLabel = (code: number): string => (KNOWN_CODES.has(code) ? String(code) : 'other');

// Label objects of the data path made once: one counter update per DATA frame, no allocation.
const UP = { direction: 'up' } as const;
const DOWN = { direction: 'down' } as const;
const FORWARDED = { outcome: 'forwarded', reason: 'none' } as const;

/** Why the router drops a datagram (docs/udp.md). */
export type DatagramDrop = 'congested' | 'too_large' | 'unknown_flow';
const DROPPED: Record<DatagramDrop, { outcome: 'dropped'; reason: DatagramDrop }> = {
  congested: { outcome: 'dropped', reason: 'congested' },
  too_large: { outcome: 'dropped', reason: 'too_large' },
  unknown_flow: { outcome: 'dropped', reason: 'unknown_flow' },
};

/** Open latencies: loopback opens take well under a millisecond, cross-node a few. */
const OPEN_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const RTT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The router's instruments, created once from the metrics port. Labels are bounded: link
 * roles, wire codes, directions — never a stream, a user or (by default) a tunnel.
 */
export class RouterMetrics {
  /** The in-process counts of the admin's live views (routing/live-tally.ts). */
  readonly live = new LiveTally();
  private readonly links: Gauge;
  private readonly opened: Counter;
  private readonly refused: Counter;
  private readonly lookup: Histogram;
  private readonly throttles: Counter;
  private readonly rateDecisions: RateLimitCounter;
  private readonly shed: Counter;
  private readonly active: Gauge;
  private readonly tunnels: Gauge;
  private readonly bytes: Counter;
  private readonly openLatency: Histogram;
  private readonly rtt: Histogram;
  private readonly resets: Counter;
  private readonly resumed: Counter;
  private readonly crossNode: Counter;
  private readonly replaced: Counter;
  private readonly datagrams: Counter;
  private readonly datagramBytes: Counter;
  private readonly tunnelOpened: Counter | undefined;
  private readonly tunnelBytes: Counter | undefined;

  /** `tunnelLabels`: also count opens and bytes per tunnel name, for at most that many tunnels (off when 0 or absent). */
  constructor(metrics: Metrics, tunnelLabels = 0) {
    this.links = metrics.gauge({ name: 'tether_links', help: 'Links attached to this relay, by role', labelNames: ['role'] });
    this.opened = metrics.counter({ name: 'tether_streams_opened_total', help: 'Streams routed to a host' });
    this.refused = metrics.counter({ name: 'tether_open_refused_total', help: 'OPENs refused by the relay, by wire code', labelNames: ['code'] });
    this.throttles = metrics.counter({ name: 'tether_link_throttled_total', help: 'Times a link was held back, by why', labelNames: ['kind'] });
    this.rateDecisions = new RateLimitCounter(metrics);
    this.shed = metrics.counter({ name: 'tether_opens_shed_total', help: 'Stream opens refused by the adaptive concurrency limit (relay overloaded)' });
    this.lookup = metrics.histogram({
      name: 'tether_open_lookup_seconds',
      help: 'Time from an OPEN arriving to its access decision and tunnel look-up being applied',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    });
    this.active = metrics.gauge({ name: 'tether_streams_active', help: 'Streams routed through this relay now (opening or open)' });
    this.tunnels = metrics.gauge({ name: 'tether_tunnels_online', help: 'Tunnels whose host is linked to this relay node and holds its lease' });
    this.bytes = metrics.counter({ name: 'tether_stream_bytes_total', help: 'Payload bytes of DATA frames routed, by direction (up: connector to host, down: host to connector)', labelNames: ['direction'] });
    this.openLatency = metrics.histogram({ name: 'tether_stream_open_seconds', help: "Time from an OPEN arriving to the host's OPEN_OK being passed back (look-ups, the host and any peer node included)", buckets: OPEN_BUCKETS });
    this.rtt = metrics.histogram({ name: 'tether_link_rtt_seconds', help: "Round-trip time of the relay's PINGs on its links, by role", labelNames: ['role'], buckets: RTT_BUCKETS });
    this.resets = metrics.counter({ name: 'tether_streams_reset_total', help: 'Streams ended with an error (RESET or a late OPEN_ERR), by wire code and who ended them', labelNames: ['code', 'by'] });
    this.resumed = metrics.counter({ name: 'tether_streams_resumed_total', help: 'Resumable streams re-attached through this relay (an OPEN carrying a RESUME hello) after their path failed' });
    this.crossNode = metrics.counter({ name: 'tether_cross_node_streams_total', help: 'Streams carried over a peer link: out (a connector here, the host on another node) or in (the other way)', labelNames: ['direction'] });
    this.replaced = metrics.counter({ name: 'tether_hosts_replaced_total', help: 'Silent host links replaced by a new connection of the same host (a host that failed over to a new network)' });
    this.datagrams = metrics.counter({ name: 'tether_datagrams_total', help: 'DATAGRAM frames (UDP flows) by outcome: forwarded, or dropped and why (congested: the link it goes to holds too much; too_large; unknown_flow: no open UDP flow has its id)', labelNames: ['outcome', 'reason'] });
    this.datagramBytes = metrics.counter({ name: 'tether_datagram_bytes_total', help: 'Payload bytes of DATAGRAM frames forwarded, by direction (up: connector to host)', labelNames: ['direction'] });
    if (tunnelLabels > 0) {
      // Opt-in (--metrics-tunnel-labels N): tunnel names are the users' and unbounded; past N
      // tunnels the rest are counted under _other.
      this.tunnelOpened = metrics.counter({ name: 'tether_tunnel_streams_opened_total', help: `Streams routed, by tunnel (at most ${tunnelLabels} tunnels, the rest under _other)`, labelNames: ['tunnel'], maxSeries: tunnelLabels });
      this.tunnelBytes = metrics.counter({ name: 'tether_tunnel_stream_bytes_total', help: `Payload bytes routed, by tunnel and direction (at most ${tunnelLabels} tunnels, the rest under _other)`, labelNames: ['tunnel', 'direction'], maxSeries: 2 * tunnelLabels });
    }
  }

  /** A link was held back: `work` (its backlog waits for its next turn) or `congested` (it does not read). */
  throttled(kind: 'work' | 'congested'): void {
    this.throttles.inc({ kind });
  }

  linkAttached(role: string): void {
    this.links.inc({ role });
  }

  linkDetached(role: string): void {
    this.links.dec({ role });
  }

  streamOpened(tunnel: string): void {
    this.opened.inc();
    this.live.opened();
    this.tunnelOpened?.inc({ tunnel });
  }

  openRefused(wireCode: number): void {
    this.refused.inc({ code: String(wireCode) });
    this.live.failed(wireCode);
  }

  /** An open shed by the adaptive limit (overload). */
  openShed(): void {
    this.shed.inc();
  }

  /** A rate limit decided an open. */
  openRateDecision(decision: LimitDecision, shadow: boolean): void {
    this.rateDecisions.count('open', decision, shadow);
  }

  openLookup(ms: number): void {
    this.lookup.observe(ms / 1000);
  }

  /** The count of streams routed now. */
  streams(count: number): void {
    this.active.set(count);
  }

  /** The count of tunnels served by host links of this node. */
  tunnelsOnline(count: number): void {
    this.tunnels.set(count);
  }

  data(up: boolean, bytes: number, tunnel: string): void {
    this.bytes.inc(up ? UP : DOWN, bytes);
    this.tunnelBytes?.inc({ tunnel, direction: up ? 'up' : 'down' }, bytes);
  }

  /** A datagram of `bytes` was forwarded. */
  datagramForwarded(up: boolean, bytes: number): void {
    this.datagrams.inc(FORWARDED);
    this.datagramBytes.inc(up ? UP : DOWN, bytes);
  }

  datagramDropped(reason: DatagramDrop): void {
    this.datagrams.inc(DROPPED[reason]);
  }

  /** An OPEN that arrived `ms` ago was accepted by its host. */
  openAccepted(ms: number): void {
    this.openLatency.observe(ms / 1000);
    this.live.accepted(ms);
  }

  pong(role: string, rttMs: number): void {
    this.rtt.observe(rttMs / 1000, { role });
  }

  /** A routed stream ended with `code`: by the relay, the opener, the host, or because a link went. */
  streamReset(code: number, by: 'relay' | 'opener' | 'host' | 'link-gone'): void {
    this.resets.inc({ code: codeLabel(code), by });
    this.live.failed(code);
  }

  /** An OPEN was routed: counts it as a resume when its metadata carries a RESUME hello. */
  routedOpen(metadata: Buffer, direction: 'out' | 'in' | undefined): void {
    if (direction) this.crossNode.inc({ direction });
    if (metadata.length === 0) return;
    try {
      if (decodeOpenMetadata(metadata).hello?.kind === 'resume') this.resumed.inc();
    } catch {
      // Malformed metadata is the far end's to refuse; the relay passes it on unread.
    }
  }

  hostReplaced(): void {
    this.replaced.inc();
  }
}
