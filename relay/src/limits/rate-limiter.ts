import type { Clock } from '../ports/clock.js';
import type { RateRule } from '../ports/rate-limit-store.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';

/**
 * At most `perMinute` events per key per minute, with bursts up to that many: a synchronous
 * face on one node's MemoryRateLimitStore (GCRA, gcra.ts), kept for the host registrations in
 * routes/tunnel-ws.ts until they move to the RateLimitStore port with the rules in rules.ts
 * (`registrations.perIdentity`, key RateKeys.registration), which a cluster shares.
 */
export class RateLimiter<K extends string | number> {
  private readonly store: MemoryRateLimitStore;
  private readonly rule: RateRule;

  constructor(perMinute: number, clock: Clock) {
    this.rule = { rate: perMinute, periodMs: 60_000, burst: perMinute };
    this.store = new MemoryRateLimitStore(clock);
  }

  /** Takes one event for `key`; false when that would exceed the rate (nothing is taken then). */
  take(key: K): boolean {
    return this.store.decide(String(key), this.rule).allowed;
  }

  /** Milliseconds until `key` may take an event again (0: now). */
  retryAfterMs(key: K): number {
    return Math.ceil(this.store.decide(String(key), this.rule, 1, false).retryAfterMs);
  }
}
