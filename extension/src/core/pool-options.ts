import type { RelayEndpoint } from './endpoints.js';
import type { Endpoint, SessionFactory } from './relay-session.js';

/** What a RelayPool is given; each timing's default is in PoolDefaults. */
export interface RelayPoolOptions {
  kind: Endpoint;
  /** Tunnel to register (host kind). */
  tunnel?: string;
  endpoints: RelayEndpoint[];
  factory: SessionFactory;
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
  /** Health check before reconnecting an endpoint that was down; default GET <url>/healthz. */
  probe?: (url: string) => Promise<void>;
  /** Wall clock in epoch ms (for `since` and retry times). */
  now?: () => number;
  /** Source of randomness for weighted choices, in [0, 1). */
  random?: () => number;
}

/** Pool settings a client may tune (see RelayPoolOptions). */
export type PoolTuning = Partial<Pick<RelayPoolOptions, 'size' | 'detectMs' | 'failbackDelayMs' | 'queueLimit' | 'queueTimeoutMs' | 'stableAfterMs' | 'backoff' | 'probe'>>;

/** The one endpoint of a client given only a factory (the factory knows where to connect). */
export const FACTORY_ENDPOINT: RelayEndpoint = { url: 'default', priority: 0, weight: 1 };

/**
 * Where a client's pool connects: the `endpoints` given, each through `factory`; or, with none,
 * the factory's own relay as a single endpoint (not probed: it has no URL of its own).
 */
export function poolTargets(factory: SessionFactory, endpoints: RelayEndpoint[] | undefined): Pick<RelayPoolOptions, 'endpoints' | 'factory' | 'probe'> {
  if (endpoints) return { endpoints, factory };
  return { endpoints: [FACTORY_ENDPOINT], factory: (kind, tunnel) => factory(kind, tunnel), probe: async () => undefined };
}
