import type { Clock } from '../ports/clock.js';
import type { RateLimitStore } from '../ports/rate-limit-store.js';
import type { RelayLimits } from '../config.js';
import type { RedisClient } from '../stores/redis/redis-client.js';
import { ByteShaper } from './byte-shaper.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { RateLimits } from './rate-limits.js';
import { RedisRateLimitStore, type RateLimitLog } from './redis-rate-limit-store.js';
import { resolveRateLimitRules } from './rules.js';

/**
 * The relay's rate limits as configured: `false` for none; otherwise the rules over the
 * defaults (INVALID_CONFIG naming the path of a bad one), registrations per identity following
 * `limits.maxRegistrationsPerMinute` unless a rule is given for them, and buckets in the
 * cluster's Redis when there is one (falling back to this node's memory while it is down).
 */
export function buildRateLimits(config: unknown, context: { limits: RelayLimits; clock: Clock; client?: RedisClient; log: RateLimitLog }): { limits: RateLimits; store: RateLimitStore; shaper: ByteShaper } | undefined {
  if (config === false) return undefined;
  const rules = resolveRateLimitRules(config ?? {});
  if (!(typeof config === 'object' && config !== null && 'registrations' in config)) {
    const perMinute = context.limits.maxRegistrationsPerMinute;
    rules.registrations.perIdentity = { rate: perMinute, periodMs: 60_000, burst: perMinute };
  }
  const memory = new MemoryRateLimitStore(context.clock);
  const store = context.client ? new RedisRateLimitStore(context.client, { fallback: memory, log: context.log }) : memory;
  // Byte rates are shaped on each node, in memory (a Redis round trip per chunk would cost more than it saves).
  const shaper = new ByteShaper(context.client ? new MemoryRateLimitStore(context.clock) : memory, rules.bytes);
  return { limits: new RateLimits(store, rules), store, shaper };
}
