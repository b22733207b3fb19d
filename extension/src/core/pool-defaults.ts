import { createError, ErrorCode } from '@tether/shared';

/**
 * The relay pool's defaults, in one place: the pool, the VS Code settings (and the manifest's
 * `contributes.configuration`, checked by a test) and the CLI's help text all read them here.
 */
export const PoolDefaults = {
  /** Live sessions a host keeps (it registers its tunnel on each, so connectors on any reach it). */
  hostSize: 4,
  /** Live sessions a connector keeps: a warm spare, so an open never waits for a handshake. */
  connectSize: 2,
  /** A dead or stalled relay is detected within this long (pings every detectMs / 4). */
  detectMs: 3000,
  /** A preferred endpoint that came back must stay up this long before streams move back to it. */
  failbackDelayMs: 10_000,
  /** acquire() calls that may wait for a session at once. */
  queueLimit: 256,
  /** How long one acquire() may wait. */
  queueTimeoutMs: 10_000,
  /** A session up this long resets its endpoint's backoff. */
  stableAfterMs: 30_000,
  /** First retry delay of a failed endpoint (doubling, jittered). */
  backoffBaseMs: 500,
  /** Longest retry delay; also the pace at which an endpoint that refused us is asked again. */
  backoffMaxMs: 30_000,
  /**
   * While an endpoint that failed waits for its retry, its health is probed this often, and it
   * is retried as soon as it answers: a relay back after a long outage is used within this long,
   * not after the rest of a backoff delay that grew to backoffMaxMs.
   */
  downProbeMs: 2000,
} as const;

/** The pool options that have defaults, as given (undefined: the default). */
export interface PoolTimings {
  /** Live sessions wanted: default min(endpoints, PoolDefaults.hostSize) for host, min(endpoints, PoolDefaults.connectSize) for connect. */
  size?: number;
  /**
   * A dead or stalled relay is detected within this long: sessions are pinged every detectMs/4
   * and one that received nothing for three of those intervals is closed. Default PoolDefaults.detectMs.
   */
  detectMs?: number;
  /** A preferred endpoint that came back must stay up this long before streams move back to it. Default PoolDefaults.failbackDelayMs. */
  failbackDelayMs?: number;
  /** acquire() calls that may wait for a session at once. Default PoolDefaults.queueLimit. */
  queueLimit?: number;
  /** How long one acquire() may wait. Default PoolDefaults.queueTimeoutMs. */
  queueTimeoutMs?: number;
  /** A session up this long resets its endpoint's backoff. Default PoolDefaults.stableAfterMs. */
  stableAfterMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * Probe a failed endpoint's health this often while it waits for its retry, and retry at once
   * when it answers (0: off). Default PoolDefaults.downProbeMs with the built-in /healthz probe,
   * 0 with a probe of the caller's own.
   */
  downProbeMs?: number;
}

export type ResolvedPoolTimings = Required<Omit<PoolTimings, 'backoff' | 'downProbeMs'>> & { backoffBaseMs: number; backoffMaxMs: number };

/**
 * Fills in the defaults for a pool of `kind` over `endpointCount` endpoints (the size is never
 * more than that) and refuses values that cannot work with INVALID_ARGUMENT, naming them.
 */
export function resolvePoolTimings(kind: 'host' | 'connect', endpointCount: number, options: PoolTimings): ResolvedPoolTimings {
  const integer = (name: string, value: number | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) throw createError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer ≥ ${min}, got ${value}`);
    return value;
  };
  return {
    size: Math.min(endpointCount, integer('size', options.size, kind === 'host' ? PoolDefaults.hostSize : PoolDefaults.connectSize, 1)),
    // The ping interval is detectMs / 4, so anything under 4 would be no interval at all.
    detectMs: integer('detectMs', options.detectMs, PoolDefaults.detectMs, 4),
    failbackDelayMs: integer('failbackDelayMs', options.failbackDelayMs, PoolDefaults.failbackDelayMs, 0),
    queueLimit: integer('queueLimit', options.queueLimit, PoolDefaults.queueLimit, 0),
    queueTimeoutMs: integer('queueTimeoutMs', options.queueTimeoutMs, PoolDefaults.queueTimeoutMs, 1),
    stableAfterMs: integer('stableAfterMs', options.stableAfterMs, PoolDefaults.stableAfterMs, 0),
    backoffBaseMs: options.backoff?.baseMs ?? PoolDefaults.backoffBaseMs,
    backoffMaxMs: options.backoff?.maxMs ?? PoolDefaults.backoffMaxMs,
  };
}
