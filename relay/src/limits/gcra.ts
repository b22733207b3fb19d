import { createError, ErrorCode } from '@tether/shared';
import type { RateRule } from '../ports/rate-limit-store.js';

/**
 * The GCRA (generic cell rate algorithm) decision, pure: the whole state of a bucket is one
 * number, its theoretical arrival time (TAT), the instant at which the bucket would be full
 * again. With the emission interval T = periodMs / rate and the tolerance τ = burst · T, a take
 * of `cost` at `now` computes next = max(TAT, now) + cost · T and passes when next − now ≤ τ
 * (plus a nanosecond of rounding slack, see gcraParams).
 *
 * Convention (tested in gcra.test.ts): with burst B, an idle bucket admits exactly B unit events
 * at one instant t0 and refuses the (B+1)-th with a retry-after of T; after that, one more event
 * passes every T, so k more pass by t0 + k·T. In any window of length W a bucket admits at most
 * B + W / T = burst + rate · W / periodMs unit events.
 *
 * The Redis store runs the same arithmetic in Lua (rate-limit-scripts.ts) with the same IEEE
 * double operations in the same order; keep the two in step.
 */
export interface GcraDecision {
  allowed: boolean;
  /** The TAT to store: the new one when allowed, the one before when refused. */
  tat: number;
  retryAfterMs: number;
  remaining: number;
  resetAfterMs: number;
}

/**
 * The emission interval T and tolerance τ of a rule, in milliseconds, and `admit`: τ plus a
 * nanosecond. T is rarely exact in binary (1000 / 11), and a TAT built by adding it up drifts
 * by a few ulps either way; without the nanosecond an arrival exactly k·T after t0 could be
 * refused for a rounding error. A nanosecond early is far below any clock the relay reads.
 */
export function gcraParams(rule: RateRule): { interval: number; tolerance: number; admit: number } {
  const interval = rule.periodMs / rule.rate;
  const tolerance = rule.burst * interval;
  return { interval, tolerance, admit: tolerance + SLACK_MS };
}

const SLACK_MS = 1e-6;

// Floating-point slack for counting whole events in a span (never used to decide admission).
const EPSILON = 1e-6;

/**
 * Decides a take of `cost` (0 is a pure look) on a bucket whose stored TAT is `tat` (undefined:
 * never seen, or expired). `now` and `tat` are on one clock, in milliseconds.
 */
export function gcraDecide(rule: RateRule, now: number, tat: number | undefined, cost = 1): GcraDecision {
  checkCost(rule, cost);
  const { interval, tolerance, admit } = gcraParams(rule);
  const base = tat === undefined || tat < now ? now : tat;
  let next = base + cost * interval;
  if (next - now > admit) {
    return {
      allowed: false,
      tat: base,
      retryAfterMs: next - tolerance - now,
      remaining: whole((tolerance - (base - now)) / interval),
      resetAfterMs: base - now,
    };
  }
  const lockout = rule.lockoutMs ?? 0;
  if (lockout > 0 && cost > 0 && next + interval - now > admit) next = Math.max(next, now + lockout + tolerance - interval);
  return { allowed: true, tat: next, retryAfterMs: 0, remaining: whole((tolerance - (next - now)) / interval), resetAfterMs: next - now };
}

/** A take larger than the burst (or negative) can never pass: INVALID_ARGUMENT, a caller's bug. */
export function checkCost(rule: RateRule, cost: number): void {
  if (!(cost >= 0) || cost > rule.burst) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `a take of ${cost} can never pass a bucket of burst ${rule.burst}`);
  }
}

const whole = (events: number): number => Math.max(0, Math.floor(events + EPSILON));

/**
 * Shaping instead of policing: the take always happens (never dropped), and the answer is how
 * long the caller should wait before sending so the bucket's rate holds (0: at once). A cost
 * larger than the burst is fine here: it simply waits longer. Credit-based: idle time earns up
 * to a burst of credit, and a send beyond it goes into debt that later sends wait out.
 */
export function gcraSchedule(rule: RateRule, now: number, tat: number | undefined, cost: number): { tat: number; waitMs: number } {
  const { interval, tolerance } = gcraParams(rule);
  const base = tat === undefined || tat < now ? now : tat;
  const next = base + cost * interval;
  return { tat: next, waitMs: Math.max(0, next - tolerance - now) };
}

/** Rejects a rule that cannot work, naming it (`what`: where it came from, for the message). */
export function checkRule(rule: RateRule, what: string): void {
  const positive = (name: string, value: unknown, integer: boolean): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw createError(ErrorCode.INVALID_CONFIG, `${what}.${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`);
    }
  };
  positive('rate', rule.rate, false);
  positive('periodMs', rule.periodMs, true);
  positive('burst', rule.burst, true);
  if (rule.lockoutMs !== undefined && rule.lockoutMs !== 0) positive('lockoutMs', rule.lockoutMs, true);
  if (rule.onStoreDown !== undefined && !['local', 'open', 'closed'].includes(rule.onStoreDown)) {
    throw createError(ErrorCode.INVALID_CONFIG, `${what}.onStoreDown must be local, open or closed, got ${JSON.stringify(rule.onStoreDown)}`);
  }
}
