import type { FastifyPluginAsync } from 'fastify';
import { checkTunnelName, createError, ErrorCode } from '@tether/shared';
import { refusal } from '../policy/decision.js';
import type { Policy } from '../policy/policy.js';
import type { TunnelRecord } from '../ports/store.js';
import type { TunnelRegistry } from '../ports/tunnel-registry.js';
import type { InvalidationPublisher } from '../cluster/invalidation.js';

const view = (t: TunnelRecord, online: boolean) => ({
  name: t.name,
  owner: t.ownerName,
  online,
  createdAt: t.createdAt,
  lastHostedAt: t.lastHostedAt,
});

/** Tunnels the caller may use, and one tunnel's status (what `tether connect` checks first). */
export const tunnelRoutes: FastifyPluginAsync<{ policy: Policy; registry: TunnelRegistry; invalidations: InvalidationPublisher; nodeId: string }> = async (
  app,
  { policy, registry, invalidations, nodeId },
) => {
  app.addHook('onRequest', app.requireIdentity);

  app.get('/v1/whoami', async (request) => ({ name: request.identity?.name, admin: request.identity?.admin }));

  app.get('/v1/tunnels', async (request) => {
    const records = await policy.visibleTunnels(request.identity!);
    const leases = await registry.lookupMany(records.map((t) => t.name));
    return { tunnels: records.map((t) => view(t, leases.has(t.name))) };
  });

  app.get<{ Params: { name: string } }>('/v1/tunnels/:name', {
    schema: { params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256, title: 'tunnel name' } } } },
  }, async (request) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    const decision = await policy.authorize(request.identity!, 'tunnel.view', { kind: 'tunnel', name });
    if (!decision.allow) throw refusal(decision);
    return view(decision.tunnel!, (await registry.lookup(name)).length > 0);
  });

  app.delete<{ Params: { name: string } }>('/v1/tunnels/:name', {
    schema: { params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256, title: 'tunnel name' } } } },
  }, async (request, reply) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    const decision = await policy.authorize(request.identity!, 'tunnel.delete', { kind: 'tunnel', name });
    if (!decision.allow) throw refusal(decision);
    // A name in use is not pulled from under its host: its host would only claim it again.
    if ((await registry.lookup(name)).length > 0) throw createError(ErrorCode.TUNNEL_IN_USE, `tunnel ${name} is being shared right now: stop sharing it first`);
    await policy.releaseTunnel(request.identity!, name);
    // Every other node drops the name from its one-second tunnel cache.
    invalidations.publish({ kind: 'tunnel-deleted', origin: nodeId, name });
    return reply.code(204).send();
  });
};
