import { createError, ErrorCode, TetherError } from '@tether/shared';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { RateDecision, RateLimitStore, RateRule, StoreDownPolicy } from '../ports/rate-limit-store.js';
import type { RedisClient } from '../stores/redis/redis-client.js';
import { callRedis } from '../stores/redis/redis-errors.js';
import { checkCost, gcraDecide, gcraParams } from './gcra.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { RATE_LIMIT_TAKE } from './rate-limit-scripts.js';

/** The script, once defined on the client (ioredis sends EVALSHA, and EVAL once on NOSCRIPT). */
interface Scripts {
  tetherRateLimit(key: string, now: string, interval: string, admit: string, tolerance: string, cost: string, lockout: string, write: string): Promise<[number, string, string]>;
}

/** What a refusal for an unreachable Redis (policy `closed`) tells the caller to wait. */
export const STORE_DOWN_RETRY_MS = 1000;

/** The logger calls the store makes (a pino/Fastify logger fits). */
export interface RateLimitLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisRateLimitStoreOptions {
  /** Key prefix (default `tether`): a bucket is `PREFIX:{rl:KEY}`. */
  prefix?: string;
  /**
   * Decide on this clock's `now()` instead of the Redis server's TIME. Only for tests (a manual
   * clock): in a cluster every relay must use Redis's time, or skewed clocks disagree.
   */
  clock?: Clock;
  /** The buckets of the `local` StoreDownPolicy (default: a memory store on the system clock). */
  fallback?: MemoryRateLimitStore;
  /** Hears an outage once when it starts and once when Redis answers again. */
  log?: RateLimitLog;
}

/** `PREFIX:{rl:KEY}`: the whole bucket name is the hash tag, so buckets spread over the cluster. */
export const rateLimitKey = (prefix: string, key: string): string => `${prefix}:{rl:${key}}`;

/**
 * Rate-limit buckets in the cluster's Redis (standalone or Redis Cluster): one key and one
 * atomic script per decision, so a decision never crosses slots. Time is the Redis server's
 * (TIME inside the script). When Redis does not answer (down, or silent past the client's
 * command timeout, about a second), each rule's `onStoreDown` decides (default `local`: this
 * node's own buckets, in memory), the decision carries `degraded`, and the outage is logged once.
 * A Redis that refuses the script (a bug) fails the call with INTERNAL instead. The client is
 * shared with (and owned by) the RedisStore: `close()` never quits it.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly scripts: Scripts;
  private readonly prefix: string;
  private readonly fallback: MemoryRateLimitStore;
  private down = false;

  constructor(private readonly client: RedisClient, private readonly options: RedisRateLimitStoreOptions = {}) {
    this.prefix = options.prefix ?? 'tether';
    this.fallback = options.fallback ?? new MemoryRateLimitStore(systemClock);
    client.defineCommand('tetherRateLimit', { lua: RATE_LIMIT_TAKE, numberOfKeys: 1 });
    this.scripts = client as unknown as Scripts;
  }

  /** True while Redis does not answer (decisions follow each rule's onStoreDown). */
  get degraded(): boolean {
    return this.down;
  }

  take(key: string, rule: RateRule, cost = 1): Promise<RateDecision> {
    return this.decide(key, rule, cost, true);
  }

  peek(key: string, rule: RateRule, cost = 1): Promise<RateDecision> {
    return this.decide(key, rule, cost, false);
  }

  async reset(key: string): Promise<void> {
    await this.fallback.reset(key);
    try {
      await callRedis(() => this.client.del(rateLimitKey(this.prefix, key)));
      this.up();
    } catch (err) {
      // Forgetting is best effort: a bucket left behind expires on its own.
      if (!this.unavailable(err)) throw err;
    }
  }

  async close(): Promise<void> {
    await this.fallback.close();
  }

  private async decide(key: string, rule: RateRule, cost: number, write: boolean): Promise<RateDecision> {
    checkCost(rule, cost);
    const { interval, admit, tolerance } = gcraParams(rule);
    let reply: [number, string, string];
    try {
      reply = await callRedis(() => this.scripts.tetherRateLimit(
        rateLimitKey(this.prefix, key), this.options.clock ? String(this.options.clock.now()) : '',
        String(interval), String(admit), String(tolerance), String(cost), String(rule.lockoutMs ?? 0), write ? '1' : '0',
      ));
    } catch (err) {
      if (!this.unavailable(err)) throw err;
      return this.whenDown(key, rule, cost, write, rule.onStoreDown ?? 'local');
    }
    this.up();
    const [allowed, now, before] = reply;
    const d = gcraDecide(rule, Number(now), before === '' ? undefined : Number(before), cost);
    if (d.allowed !== (allowed === 1)) {
      throw createError(ErrorCode.INTERNAL, `the rate-limit script and gcraDecide disagree on ${key} (now ${now}, TAT ${before})`);
    }
    return { allowed: d.allowed, retryAfterMs: d.retryAfterMs, remaining: d.remaining, resetAfterMs: d.resetAfterMs, limit: rule.burst };
  }

  private whenDown(key: string, rule: RateRule, cost: number, write: boolean, policy: StoreDownPolicy): RateDecision {
    if (policy === 'local') return { ...this.fallback.decide(key, rule, cost, write), degraded: 'local' };
    if (policy === 'open') return { allowed: true, retryAfterMs: 0, remaining: rule.burst - cost, resetAfterMs: 0, limit: rule.burst, degraded: 'open' };
    return { allowed: false, retryAfterMs: STORE_DOWN_RETRY_MS, remaining: 0, resetAfterMs: 0, limit: rule.burst, degraded: 'closed' };
  }

  /** True (and the outage noted) when `err` says Redis did not answer. */
  private unavailable(err: unknown): boolean {
    if (!(err instanceof TetherError) || err.code !== ErrorCode.STORE_UNAVAILABLE) return false;
    if (!this.down) {
      this.down = true;
      this.options.log?.warn({ err: err.message }, 'rate limits: Redis unreachable, each rule follows its onStoreDown policy (default: this node\'s own buckets) until it is back');
    }
    return true;
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.options.log?.info({}, 'rate limits: Redis reachable again, buckets are shared by the cluster again');
  }
}
