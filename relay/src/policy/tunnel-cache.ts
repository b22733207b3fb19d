import type { Clock } from '../ports/clock.js';
import type { Store, TunnelRecord } from '../ports/store.js';
import type { GrantRecord } from '../ports/team-store.js';

interface Entry<V> {
  at: number;
  value: Promise<V | undefined>;
}

/**
 * Store records for the hot path (every OPEN asks for a tunnel record, and a member's grant), kept `ttlMs` and shared by
 * concurrent askers: a burst of OPENs to one tunnel costs one store read, however slow the
 * store. Changes made through the policy invalidate at once; anything else is seen within
 * `ttlMs` (the time the design allows a revocation to take). Bounded: past `maxEntries` the
 * oldest entries go.
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly load: (key: string) => Promise<V | undefined>;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(load: (key: string) => Promise<V | undefined>, clock: Clock, ttlMs = 1000, maxEntries = 10_000) {
    this.load = load;
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  get(name: string): Promise<V | undefined> {
    const now = this.clock.monotonic();
    const hit = this.entries.get(name);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.load(name);
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

/** Tunnel records by name. */
export class TunnelCache extends ReadCache<TunnelRecord> {
  constructor(store: Pick<Store, 'getTunnel'>, clock: Clock, ttlMs = 1000, maxEntries = 10_000) {
    super((name) => store.getTunnel(name), clock, ttlMs, maxEntries);
  }
}

/** A member's grant on a tunnel, for stream opens (keyed by tunnel and user). */
export class GrantCache extends ReadCache<GrantRecord> {
  constructor(store: Pick<Store, 'getGrant'>, clock: Clock, ttlMs = 1000, maxEntries = 10_000) {
    super((key) => {
      const [tunnel, user] = key.split('\n');
      return store.getGrant(tunnel, Number(user));
    }, clock, ttlMs, maxEntries);
  }

  static key(tunnel: string, userId: number): string {
    return `${tunnel}\n${userId}`;
  }
}
