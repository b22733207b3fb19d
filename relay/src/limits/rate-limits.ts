import type { RateDecision, RateLimitStore } from '../ports/rate-limit-store.js';
import { RefusalTally } from './refusal-tally.js';
import { RateKeys } from './rate-limit-keys.js';
import type { RateLimitRules, RuleOrOff } from './rules.js';

/** Who is asking: the identity once authenticated, and the source address always. */
export interface RateSubject {
  /** Absent before authentication. */
  identityId?: number;
  address: string;
  /** The relay admin is never limited. */
  admin?: boolean;
}

/** A decision, with the rule that refused it (`opens.perTunnel`…) when one did. */
export interface LimitDecision extends RateDecision {
  scope?: string;
}

/** A bucket to take from: its key (none: skipped), its rule, and the rule's name in RateLimitRules. */
type Check = readonly [string | undefined, RuleOrOff, string];

/** The decision of a request nothing limits (the admin, or every rule off). */
export const UNLIMITED: RateDecision = Object.freeze({ allowed: true, retryAfterMs: 0, remaining: Number.POSITIVE_INFINITY, resetAfterMs: 0, limit: Number.POSITIVE_INFINITY });

/**
 * The one place that says which buckets each kind of request is counted in (rules.ts for the
 * rules, RateKeys for the keys): a caller asks `api`, `upgrade`, `open`… and gets one decision.
 * Buckets are taken one after the other and the first refusal stops the rest; the buckets before
 * it keep their take (a refused request still cost its sender in those; it is not worth a
 * multi-key transaction, which Redis Cluster could not run across slots anyway). An allowed
 * request gets the decision with the least left, for RateLimit headers.
 */
export class RateLimits {
  /** What these limits refused on this node (the admin dashboard's Rate limits page). */
  readonly refusals = new RefusalTally();

  constructor(private readonly store: RateLimitStore, readonly rules: RateLimitRules) {}

  /** An HTTP API call to the route Fastify names `routeUrl` (`/v1/tunnels/:name`). */
  api(subject: RateSubject, method: string, routeUrl: string): Promise<LimitDecision> {
    if (subject.admin) return Promise.resolve(UNLIMITED);
    const { api } = this.rules;
    const id = subject.identityId;
    const route = api.perRoute[`${method.toUpperCase()} ${routeUrl}`] ?? false;
    return this.takeAll([
      [RateKeys.apiAddress(subject.address), api.perAddress, 'api.perAddress'],
      [id === undefined ? undefined : RateKeys.apiIdentity(id), api.perIdentity, 'api.perIdentity'],
      [id === undefined ? undefined : RateKeys.apiRoute(method, routeUrl, id), route, 'api.perRoute'],
    ]);
  }

  /** A WebSocket upgrade (host or connector link). */
  upgrade(subject: RateSubject): Promise<LimitDecision> {
    if (subject.admin) return Promise.resolve(UNLIMITED);
    const { upgrades } = this.rules;
    const id = subject.identityId;
    return this.takeAll([
      [RateKeys.upgradeAddress(subject.address), upgrades.perAddress, 'upgrades.perAddress'],
      [id === undefined ? undefined : RateKeys.upgradeIdentity(id), upgrades.perIdentity, 'upgrades.perIdentity'],
    ]);
  }

  /** A stream OPEN of `tunnel` by the link's identity. */
  open(subject: RateSubject, tunnel: string): Promise<LimitDecision> {
    if (subject.admin) return Promise.resolve(UNLIMITED);
    const { opens } = this.rules;
    const id = subject.identityId;
    return this.takeAll([
      [RateKeys.openAddress(subject.address), opens.perAddress, 'opens.perAddress'],
      [id === undefined ? undefined : RateKeys.openIdentity(id), opens.perIdentity, 'opens.perIdentity'],
      [RateKeys.openTunnel(tunnel), opens.perTunnel, 'opens.perTunnel'],
    ]);
  }

  /** A host registration (share or reconnect). */
  registration(subject: RateSubject): Promise<LimitDecision> {
    if (subject.admin || subject.identityId === undefined) return Promise.resolve(UNLIMITED);
    return this.takeAll([[RateKeys.registration(subject.identityId), this.rules.registrations.perIdentity, 'registrations.perIdentity']]);
  }

  /**
   * Before checking credentials: refused while the address (or the user name the request
   * claims) is locked out by earlier failures. Takes nothing.
   */
  async signInAllowed(address: string, name?: string): Promise<LimitDecision> {
    const { signInFailures } = this.rules;
    const checks: Check[] = [[RateKeys.signInAddress(address), signInFailures.perAddress, 'signInFailures.perAddress'], [name === undefined ? undefined : RateKeys.signInName(name), signInFailures.perName, 'signInFailures.perName']];
    let least: LimitDecision = UNLIMITED;
    for (const [key, rule, scope] of checks) {
      if (key === undefined || rule === false) continue;
      const d = await this.store.peek(key, rule);
      if (!d.allowed) {
        this.refusals.refused(scope, key);
        return { ...d, scope };
      }
      if (d.remaining < least.remaining) least = d;
    }
    return least;
  }

  /** Records a failed sign-in; the failure that uses up a bucket starts its lockout. */
  async signInFailed(address: string, name?: string): Promise<void> {
    const { signInFailures } = this.rules;
    if (signInFailures.perAddress !== false) await this.store.take(RateKeys.signInAddress(address), signInFailures.perAddress);
    if (name !== undefined && signInFailures.perName !== false) await this.store.take(RateKeys.signInName(name), signInFailures.perName);
  }

  /** A successful sign-in clears the failures counted against the name (not the address's). */
  async signInSucceeded(name: string): Promise<void> {
    await this.store.reset(RateKeys.signInName(name));
  }

  private async takeAll(checks: readonly Check[]): Promise<LimitDecision> {
    let least: LimitDecision = UNLIMITED;
    for (const [key, rule, scope] of checks) {
      if (key === undefined || rule === false) continue;
      const d = await this.store.take(key, rule);
      if (!d.allowed) {
        this.refusals.refused(scope, key);
        return { ...d, scope };
      }
      if (d.remaining < least.remaining) least = d;
    }
    return least;
  }
}

/**
 * The HTTP headers of a decision: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
 * (seconds, rounded up; the IETF RateLimit header fields draft) and, when refused, `Retry-After`.
 * Nothing for an unlimited request.
 */
export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  if (d.limit === Number.POSITIVE_INFINITY) return {};
  const headers: Record<string, string> = {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(Math.ceil(d.resetAfterMs / 1000)),
  };
  if (!d.allowed) headers['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)));
  return headers;
}
