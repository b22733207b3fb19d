import type { Counter, Metrics } from '../ports/metrics.js';
import type { LimitDecision } from './rate-limits.js';

/**
 * Counts every decision the relay's rate limits make, by rule and outcome
 * (`tether_rate_limit_decisions_total`); `shadow` marks what would have been refused.
 */
export class RateLimitCounter {
  private readonly decisions: Counter;

  constructor(metrics: Metrics) {
    this.decisions = metrics.counter({ name: 'tether_rate_limit_decisions_total', help: 'Rate limit decisions, by the kind of request, the rule that refused and the outcome', labelNames: ['kind', 'rule', 'outcome'] });
  }

  /** Counts a decision; an unlimited one (the admin, every rule off) is no decision and is not counted. */
  count(kind: string, decision: LimitDecision, shadow: boolean): void {
    if (decision.limit === Number.POSITIVE_INFINITY) return;
    const outcome = decision.allowed ? (decision.degraded ? `allowed-${decision.degraded}` : 'allowed') : shadow ? 'shadow-refused' : 'refused';
    this.decisions.inc({ kind, rule: decision.allowed ? '' : (decision.scope ?? ''), outcome });
  }
}
