import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../../ports/metrics.js';
import type { Store } from '../../ports/store.js';
import type { TunnelRegistry } from '../../ports/tunnel-registry.js';
import type { Router } from '../../routing/router.js';
import type { Policy } from '../../policy/policy.js';
import type { RateLimits } from '../../limits/rate-limits.js';
import type { FrontDoor } from '../front-door.js';
import { TunnelDialer } from '../tunnel-dialer.js';
import { HttpCache } from './http-cache.js';
import { HttpCompression } from './compression.js';
import { HttpIngress, type ResponseLayers } from './http-ingress.js';
import type { OriginFetch } from './ingress-types.js';
import { refusal } from '../../policy/decision.js';
import { IngressAccess } from './ingress-access.js';
import { identifyByHash } from '../../auth.js';
import { OriginClient } from './origin-client.js';

export interface IngressDeps {
  domain: string;
  router: Router;
  policy: Policy;
  store: Store;
  registry: TunnelRegistry;
  adminToken: string;
  metrics: Metrics;
  log: FastifyBaseLogger;
  secure: boolean;
  /** The relay's rate limits: wrong tokens shown to the ingress count as failed sign-ins. */
  limits?: RateLimits;
  /** The HTTP cache's bytes per node in all (tunnels opt in with --cache). */
  cacheBytes?: number;
}

/** Status classes for the requests metric: 2xx… (a fixed, small label set). */
const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** Builds the HTTP ingress and puts it in front of the relay's routes. Returns what closes it. */
export function buildIngress(door: FrontDoor, deps: IngressDeps): { purge(tunnel: string): number; close(): void } {
  const dialer = new TunnelDialer(deps.router);
  const origin = new OriginClient(dialer);
  const access = new IngressAccess({
    identify: identifyByHash(deps.adminToken, (hash) => deps.store.findUserByTokenHash(hash)),
    secret: () => deps.store.sharedSecret('http-ingress-session'),
    guard: deps.limits && {
      allowed: (address) => deps.limits!.signInAllowed(address),
      failed: (address) => deps.limits!.signInFailed(address),
    },
  });
  const cache = new HttpCache({ maxBytes: deps.cacheBytes });
  const compression = new HttpCompression();
  const cacheBytes = deps.metrics.gauge({ name: 'tether_http_cache_bytes', help: "Bytes of response bodies in this node's HTTP cache." });
  const layers: ResponseLayers = async (tunnel, settings, request, origin) => {
    const quota = settings.cacheBytes ?? 0;
    const viaCache: OriginFetch = quota > 0 ? (r) => cache.serve(tunnel, quota, r, origin) : origin;
    const response = settings.compress ? await compression.serve(request, viaCache) : await viaCache(request);
    if (quota > 0) cacheBytes.set(cache.stats().bytes);
    return response;
  };
  const requests = deps.metrics.counter({ name: 'tether_http_requests_total', help: 'Requests answered by the HTTP ingress, by status class and result (forwarded, hit, error, sign-in, upgrade).', labelNames: ['status', 'result'] });
  const ingress = new HttpIngress({
    domain: deps.domain,
    registry: deps.registry,
    tunnelExists: (name) => deps.policy.tunnelClaimed(name),
    access,
    dialer,
    origin,
    layers,
    authorize: async (identity, tunnel) => {
      const decision = await deps.policy.authorize(identity, 'tunnel.connect', { kind: 'tunnel', name: tunnel });
      return decision.allow ? undefined : refusal(decision);
    },
    log: deps.log,
    secure: deps.secure,
    observe: (_tunnel, status, result) => requests.inc({ status: statusClass(status), result }),
  });
  door.use({
    request: (req, res) => {
      const tunnel = ingress.tunnelOf(String(req.headers[':authority'] ?? req.headers.host ?? ''));
      if (tunnel === undefined) return false;
      void ingress.handle(req, res, tunnel);
      return true;
    },
    upgrade: (req, socket, head) => {
      const tunnel = ingress.tunnelOf(req.headers.host);
      if (tunnel === undefined) return false;
      void ingress.upgrade(req, socket, head, tunnel);
      return true;
    },
  });
  return {
    purge: (tunnel) => cache.purge(tunnel),
    close: () => {
      origin.close();
      dialer.close();
      door.close();
    },
  };
}
