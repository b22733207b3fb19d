import type { Counter, Gauge, Histogram, Metrics } from '../ports/metrics.js';
import { RateLimitCounter } from '../limits/rate-limit-counter.js';
import type { LimitDecision } from '../limits/rate-limits.js';

/** The router's instruments, created once from the metrics port. */
export class RouterMetrics {
  private readonly links: Gauge;
  private readonly opened: Counter;
  private readonly refused: Counter;
  private readonly lookup: Histogram;
  private readonly throttles: Counter;
  private readonly rateDecisions: RateLimitCounter;
  private readonly shed: Counter;

  constructor(metrics: Metrics) {
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

  streamOpened(): void {
    this.opened.inc();
  }

  openRefused(wireCode: number): void {
    this.refused.inc({ code: String(wireCode) });
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
}
