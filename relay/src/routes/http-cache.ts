import type { FastifyPluginAsync } from 'fastify';
import { checkTunnelName, createError, ErrorCode } from '@tether/shared';
import type { InvalidationPublisher } from '../cluster/invalidation.js';
import { refusal } from '../policy/decision.js';
import type { Policy } from '../policy/policy.js';

export interface HttpCacheRouteOptions {
  policy: Policy;
  /** Drops this node's cached responses of a tunnel; resolves how many. None: no ingress here. */
  purge?: (tunnel: string) => number;
  invalidations: InvalidationPublisher;
  nodeId: string;
}

/**
 * `DELETE /v1/tunnels/:name/cache`: the tunnel's owner (or a member who manages it, or the relay
 * admin) empties its HTTP cache, on this node and, through the invalidation channel, on every
 * node of the cluster (docs/http-cache.md).
 */
export const httpCacheRoutes: FastifyPluginAsync<HttpCacheRouteOptions> = async (app, { policy, purge, invalidations, nodeId }) => {
  app.delete<{ Params: { name: string } }>('/v1/tunnels/:name/cache', { onRequest: app.requireIdentity }, async (request) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    const decision = await policy.authorize(request.identity!, 'tunnel.manage', { kind: 'tunnel', name });
    if (!decision.allow) throw refusal(decision);
    if (!purge) throw createError(ErrorCode.NOT_FOUND, 'this relay has no HTTP ingress (--public-domain), so no cache to purge');
    const purged = purge(name);
    invalidations.publish({ kind: 'cache-purged', origin: nodeId, tunnel: name });
    return { tunnel: name, purged };
  });
};
