import type { RelayEndpoint } from './endpoints.js';
import type { PoolTimings } from './pool-defaults.js';
import type { Endpoint, SessionFactory } from './relay-session.js';

/** What a RelayPool is given; each timing's default is in PoolDefaults. */
export interface RelayPoolOptions extends PoolTimings {
  kind: Endpoint;
  /** Tunnel to register (host kind). */
  tunnel?: string;
  endpoints: RelayEndpoint[];
  factory: SessionFactory;
  /** Health check before reconnecting an endpoint that was down; default GET <url>/healthz. */
  probe?: (url: string) => Promise<void>;
  /**
   * start() keeps retrying when every endpoint fails its first attempt for a reason that may
   * pass (unreachable, say), instead of rejecting: for a host that should be sharing as soon as
   * a relay comes up. Default false.
   */
  keepTrying?: boolean;
  /**
   * At start, a session to an endpoint up first waits at most this long for a better one (of a
   * lower priority number) whose first attempt is still under way, so the first streams go where
   * they are preferred; default START_GRACE_MS in relay-pool.ts.
   */
  startGraceMs?: number;
  /** Wall clock in epoch ms (for `since` and retry times). */
  now?: () => number;
  /** Source of randomness for weighted choices, in [0, 1). */
  random?: () => number;
}

/** Pool settings a client may tune (see RelayPoolOptions). */
export type PoolTuning = Partial<Pick<RelayPoolOptions, 'size' | 'detectMs' | 'failbackDelayMs' | 'queueLimit' | 'queueTimeoutMs' | 'stableAfterMs' | 'backoff' | 'probe' | 'downProbeMs' | 'keepTrying'>>;

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
