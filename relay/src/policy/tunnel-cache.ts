import type { Clock } from '../ports/clock.js';
import type { Store, TunnelRecord } from '../ports/store.js';

interface Entry {
  at: number;
  value: Promise<TunnelRecord | undefined>;
}

/**
 * Tunnel records for the hot path (every OPEN asks for one), kept `ttlMs` and shared by
 * concurrent askers: a burst of OPENs to one tunnel costs one store read, however slow the
 * store. Changes made through the policy invalidate at once; anything else is seen within
 * `ttlMs` (the time the design allows a revocation to take). Bounded: past `maxEntries` the
 * oldest entries go.
 */
export class TunnelCache {
  private readonly entries = new Map<string, Entry>();
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(store: Store, clock: Clock, ttlMs = 1000, maxEntries = 10_000) {
    this.store = store;
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  get(name: string): Promise<TunnelRecord | undefined> {
    const now = this.clock.monotonic();
    const hit = this.entries.get(name);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.store.getTunnel(name);
    // A failed read is not kept: the next asker tries the store again.
    value.catch(() => {
      if (this.entries.get(name)?.value === value) this.entries.delete(name);
    });
    this.entries.delete(name);
    this.entries.set(name, { at: now, value });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  invalidate(name: string): void {
    this.entries.delete(name);
  }

  clear(): void {
    this.entries.clear();
  }
}
