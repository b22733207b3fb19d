import type { Clock } from '../ports/clock.js';
import type { RateDecision, RateLimitStore, RateRule } from '../ports/rate-limit-store.js';
import { gcraDecide, gcraSchedule } from './gcra.js';

export interface MemoryRateLimitStoreOptions {
  /**
   * Buckets kept at most. Past it, the least recently used buckets are forgotten (a forgotten
   * bucket is a full one: that key gets a fresh burst), so a flood of distinct keys costs bounded
   * memory. Buckets that are full again are dropped earlier, by a sweep. Default 100 000.
   */
  maxKeys?: number;
}

/**
 * Rate-limit buckets of one relay, in a Map of key → TAT on the injected clock's monotonic
 * time. `decide` is the synchronous form for hot paths; the port's methods wrap it (a resolved
 * promise costs a microtask, well under a microsecond, next to the request it guards).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly tats = new Map<string, number>();
  private readonly maxKeys: number;
  private sweepAt = 1024;
  /** Live buckets forgotten because of maxKeys (a sign of a key flood). */
  evicted = 0;

  constructor(private readonly clock: Clock, options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  get size(): number {
    return this.tats.size;
  }

  /** Synchronous take (`write` true) or peek (`write` false). */
  decide(key: string, rule: RateRule, cost = 1, write = true): RateDecision {
    const now = this.clock.monotonic();
    const known = this.tats.get(key);
    const d = gcraDecide(rule, now, known, cost);
    if (write && d.allowed && cost > 0) {
      // Delete first so the key moves to the end of the Map's order: the front is least recently used.
      if (known !== undefined) this.tats.delete(key);
      this.tats.set(key, d.tat);
      if (known === undefined) this.bound(now);
    }
    return { allowed: d.allowed, retryAfterMs: d.retryAfterMs, remaining: d.remaining, resetAfterMs: d.resetAfterMs, limit: rule.burst };
  }

  /**
   * Shaping: takes `cost` whatever the bucket holds and returns how long to wait before acting
   * (see gcraSchedule). Never refuses; debt past the burst is waited out.
   */
  schedule(key: string, rule: RateRule, cost: number): number {
    const now = this.clock.monotonic();
    const known = this.tats.get(key);
    const s = gcraSchedule(rule, now, known, cost);
    if (known !== undefined) this.tats.delete(key);
    this.tats.set(key, s.tat);
    if (known === undefined) this.bound(now);
    return s.waitMs;
  }

  async take(key: string, rule: RateRule, cost = 1): Promise<RateDecision> {
    return this.decide(key, rule, cost, true);
  }

  async peek(key: string, rule: RateRule, cost = 1): Promise<RateDecision> {
    return this.decide(key, rule, cost, false);
  }

  async reset(key: string): Promise<void> {
    this.tats.delete(key);
  }

  async close(): Promise<void> {
    this.tats.clear();
  }

  private bound(now: number): void {
    if (this.tats.size > this.sweepAt) {
      for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
      // Amortised: the next sweep waits until the map has doubled again.
      this.sweepAt = Math.max(1024, 2 * this.tats.size);
    }
    if (this.tats.size <= this.maxKeys) return;
    for (const key of this.tats.keys()) {
      if (this.tats.size <= this.maxKeys) break;
      this.tats.delete(key);
      this.evicted++;
    }
  }
}
