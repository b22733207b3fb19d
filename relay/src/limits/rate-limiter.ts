import type { Clock } from '../ports/clock.js';

/**
 * At most `perMinute` events per key per minute, with bursts up to that many (GCRA: one
 * timestamp per key, the time its bucket would be full again). Keys whose bucket is full are
 * forgotten, so memory stays proportional to keys active within the last minute.
 */
export class RateLimiter<K> {
  private readonly theoretical = new Map<K, number>();
  private readonly intervalMs: number;
  private readonly burstMs: number;
  private readonly clock: Clock;

  constructor(perMinute: number, clock: Clock) {
    this.intervalMs = 60_000 / perMinute;
    this.burstMs = 60_000;
    this.clock = clock;
  }

  /** Takes one event for `key`; false when that would exceed the rate (nothing is taken then). */
  take(key: K): boolean {
    const now = this.clock.monotonic();
    const tat = Math.max(this.theoretical.get(key) ?? now, now);
    if (tat + this.intervalMs - now > this.burstMs) return false;
    this.theoretical.set(key, tat + this.intervalMs);
    if (this.theoretical.size > 1024) this.sweep(now);
    return true;
  }

  /** Milliseconds until `key` may take an event again (0: now). */
  retryAfterMs(key: K): number {
    const now = this.clock.monotonic();
    const tat = this.theoretical.get(key) ?? now;
    return Math.max(0, Math.ceil(tat + this.intervalMs - this.burstMs - now));
  }

  private sweep(now: number): void {
    for (const [key, tat] of this.theoretical) if (tat <= now) this.theoretical.delete(key);
  }
}
