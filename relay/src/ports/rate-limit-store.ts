/**
 * Rate-limit buckets behind one port, so a single relay keeps them in memory and a cluster in
 * Redis with the same semantics (limits/gcra.ts decides; limits/rate-limit-store-contract.ts is
 * the behaviour both implementations pass).
 */

/**
 * What a store does with a decision it cannot make because its backend (Redis) does not answer:
 * - `local`: decide on this node alone, in memory (each node then admits up to the rule: the
 *   cluster-wide limit is multiplied by the node count for the outage, never unbounded);
 * - `open`: admit;
 * - `closed`: refuse, with a retry-after of a second.
 * Every degraded decision says so in `RateDecision.degraded`; the store logs an outage once.
 */
export type StoreDownPolicy = 'local' | 'open' | 'closed';

/**
 * A GCRA rule: on average `rate` events per `periodMs`, and up to `burst` events at once on an
 * idle bucket (burst B: exactly B unit events pass at one instant, the next one is refused).
 */
export interface RateRule {
  readonly rate: number;
  readonly periodMs: number;
  readonly burst: number;
  /**
   * When an admitted take empties the bucket (the next unit event would be refused), the
   * bucket stays empty this long: the next event passes `lockoutMs` later, then one per
   * period (failed sign-ins: N failures in a window lock the key for L). 0 or absent: none.
   */
  readonly lockoutMs?: number;
  /** Default `local` (see StoreDownPolicy). */
  readonly onStoreDown?: StoreDownPolicy;
}

/** One decision on one bucket. Times are milliseconds from the moment of the decision. */
export interface RateDecision {
  allowed: boolean;
  /** Refused: how long until the same take would pass (0 when allowed). */
  retryAfterMs: number;
  /** Unit events that would still pass right after this decision. */
  remaining: number;
  /** How long until the bucket is full again (a whole burst available). */
  resetAfterMs: number;
  /** The rule's burst (what `remaining` counts down from), for RateLimit-* headers. */
  limit: number;
  /** Set when the store could not reach its backend and applied the rule's StoreDownPolicy. */
  degraded?: StoreDownPolicy;
}

export interface RateLimitStore {
  /**
   * Takes `cost` (default 1) from `key`'s bucket when that fits, atomically; a refused take
   * changes nothing. A cost larger than the rule's burst can never pass: INVALID_ARGUMENT.
   */
  take(key: string, rule: RateRule, cost?: number): Promise<RateDecision>;
  /** The decision `take` would make now, without taking anything. */
  peek(key: string, rule: RateRule, cost?: number): Promise<RateDecision>;
  /** Forgets `key`'s bucket (a successful sign-in clears its failures). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}
