import type { RateRule } from '../ports/rate-limit-store.js';
import type { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { RateKeys } from './rate-limit-keys.js';
import type { RateLimitRules } from './rules.js';

/**
 * Byte rates per tunnel and per user, shaped, never policed: `delayFor` charges the bytes about
 * to be relayed to the tunnel's and the user's buckets and says how long to hold them (the
 * longer of the two waits; 0: send now). Credit-based: an idle tunnel earns up to a burst of
 * credit, and a send beyond it runs into debt that the following sends wait out, so a long
 * transfer settles at the rate while short exchanges pass untouched. Nothing is dropped: the
 * caller pauses its source (and so, by credit flow control, the sender) for the delay.
 *
 * Buckets live on this relay node: a Redis round trip per chunk would cost more than shaping
 * saves, so a user whose streams cross several nodes gets the rate on each.
 */
export class ByteShaper {
  constructor(private readonly buckets: MemoryRateLimitStore, private readonly rules: RateLimitRules['bytes']) {}

  /** True when some byte rate is configured (otherwise `delayFor` is always 0: skip the call). */
  get enabled(): boolean {
    return this.rules.perTunnel !== false || this.rules.perUser !== false;
  }

  /** Milliseconds to hold `bytes` of `tunnel`, opened by user `userId`, before sending them. */
  delayFor(tunnel: string, userId: number, bytes: number): number {
    if (bytes <= 0) return 0;
    return Math.max(this.charge(RateKeys.bytesTunnel(tunnel), this.rules.perTunnel, bytes), this.charge(RateKeys.bytesUser(userId), this.rules.perUser, bytes));
  }

  private charge(key: string, rule: RateRule | false, bytes: number): number {
    return rule === false ? 0 : this.buckets.schedule(key, rule, bytes);
  }
}
