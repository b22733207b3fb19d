import { createError, ErrorCode } from '@tether/shared';
import type { RateRule } from '../ports/rate-limit-store.js';
import { checkRule } from './gcra.js';

/** A rule, or `false` for no limit on that dimension. */
export type RuleOrOff = RateRule | false;

/**
 * The relay's rate limits, one rule per (what, whose) pair; the key of each bucket comes from
 * RateKeys (rate-limit-keys.ts). Requests of the relay admin are not limited (the caller checks).
 * Counting rules are enforced cluster-wide when the relay runs on Redis; byte rates are shaped
 * on each node (see ByteShaper).
 */
export interface RateLimitRules {
  /** HTTP API calls (everything under /v1 but the WebSocket upgrades). */
  api: {
    perIdentity: RuleOrOff;
    perAddress: RuleOrOff;
    /**
     * Extra rules per route and identity, keyed `METHOD /route/:param` as Fastify names the
     * route (e.g. `POST /v1/invites/accept`); they apply on top of perIdentity.
     */
    perRoute: Record<string, RuleOrOff>;
  };
  /** WebSocket upgrades (host and connector links), counted before the link is accepted. */
  upgrades: { perIdentity: RuleOrOff; perAddress: RuleOrOff };
  /**
   * Failed sign-ins (a token that matches nobody): the caller peeks before checking a token and
   * takes one on each failure; the take that empties the bucket locks it for `lockoutMs`.
   */
  signInFailures: { perAddress: RuleOrOff; perName: RuleOrOff };
  /** Stream OPENs, per opener, per tunnel opened, per opener's address. */
  opens: { perIdentity: RuleOrOff; perTunnel: RuleOrOff; perAddress: RuleOrOff };
  /** Host registrations (shares and reconnects) per identity. */
  registrations: { perIdentity: RuleOrOff };
  /** Bytes relayed, in bytes per `periodMs`, shaped (senders wait, nothing is dropped). */
  bytes: { perTunnel: RuleOrOff; perUser: RuleOrOff };
}

const MINUTE = 60_000;

/**
 * The defaults: generous for people and scripts that behave, tight where guessing pays (sign-in
 * failures lock for a quarter of an hour after ten). Counting rules fall back to this node's own
 * buckets when Redis does not answer (`local`, the StoreDownPolicy default). Byte rates are off
 * by default: shaping every relay is a decision for its operator, not a surprise.
 */
export const defaultRateLimitRules: RateLimitRules = {
  api: {
    perIdentity: { rate: 600, periodMs: MINUTE, burst: 120 },
    perAddress: { rate: 1200, periodMs: MINUTE, burst: 240 },
    perRoute: {
      'POST /v1/invites/accept': { rate: 30, periodMs: MINUTE, burst: 10 },
      'POST /v1/users': { rate: 60, periodMs: MINUTE, burst: 20 },
      'POST /v1/users/:name/token': { rate: 30, periodMs: MINUTE, burst: 10 },
      'POST /v1/tunnels/:name/invites': { rate: 60, periodMs: MINUTE, burst: 20 },
      'POST /v1/tunnels/:name/requests': { rate: 30, periodMs: MINUTE, burst: 10 },
    },
  },
  upgrades: {
    perIdentity: { rate: 120, periodMs: MINUTE, burst: 30 },
    perAddress: { rate: 300, periodMs: MINUTE, burst: 60 },
  },
  signInFailures: {
    perAddress: { rate: 20, periodMs: 10 * MINUTE, burst: 20, lockoutMs: 15 * MINUTE },
    perName: { rate: 10, periodMs: 15 * MINUTE, burst: 10, lockoutMs: 15 * MINUTE },
  },
  opens: {
    perIdentity: { rate: 600, periodMs: MINUTE, burst: 100 },
    perTunnel: { rate: 1200, periodMs: MINUTE, burst: 200 },
    perAddress: { rate: 1200, periodMs: MINUTE, burst: 200 },
  },
  registrations: { perIdentity: { rate: 120, periodMs: MINUTE, burst: 120 } },
  bytes: { perTunnel: false, perUser: false },
};

const ROUTE = /^(GET|POST|PUT|PATCH|DELETE) \/[^\s]*$/;

/**
 * Merges `partial` (from the relay's configuration: any subset, any depth) over the defaults and
 * rejects what cannot work, naming its path (`rateLimits.opens.perTunnel.burst must be …`).
 * A rule given replaces the default rule as a whole; a perRoute map is merged route by route.
 */
export function resolveRateLimitRules(partial: unknown = {}): RateLimitRules {
  const base = 'rateLimits';
  const input = object(partial, base);
  const resolved = structuredClone(defaultRateLimitRules);
  for (const [group, rules] of Object.entries(input)) {
    if (!(group in resolved)) throw createError(ErrorCode.INVALID_CONFIG, `unknown rate limit group ${base}.${group}`);
    const target = resolved[group as keyof RateLimitRules] as Record<string, unknown>;
    for (const [name, value] of Object.entries(object(rules, `${base}.${group}`))) {
      const path = `${base}.${group}.${name}`;
      if (!(name in target)) throw createError(ErrorCode.INVALID_CONFIG, `unknown rate limit ${path}`);
      if (group === 'api' && name === 'perRoute') {
        const routes = target.perRoute as Record<string, RuleOrOff>;
        for (const [route, rule] of Object.entries(object(value, path))) {
          if (!ROUTE.test(route)) throw createError(ErrorCode.INVALID_CONFIG, `${path} keys are routes like "POST /v1/invites/accept", got ${JSON.stringify(route)}`);
          routes[route] = rule === false ? false : toRule(rule, `${path}["${route}"]`);
        }
        continue;
      }
      target[name] = value === false ? false : toRule(value, path);
    }
  }
  return resolved;
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw createError(ErrorCode.INVALID_CONFIG, `${path} must be an object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function toRule(value: unknown, path: string): RateRule {
  const fields = object(value, path);
  for (const field of Object.keys(fields)) {
    if (!['rate', 'periodMs', 'burst', 'lockoutMs', 'onStoreDown'].includes(field)) throw createError(ErrorCode.INVALID_CONFIG, `unknown field ${path}.${field}`);
  }
  const rule = fields as unknown as RateRule;
  checkRule(rule, path);
  return { ...rule };
}
