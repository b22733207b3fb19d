import type { FastifyPluginAsync } from 'fastify';
import { checkTunnelName, createError, ErrorCode } from '@tether/shared';
import { refusal } from '../policy/decision.js';
import type { Policy } from '../policy/policy.js';
import type { TunnelRecord } from '../ports/store.js';
import type { TunnelRegistry } from '../ports/tunnel-registry.js';
import type { InvalidationPublisher } from '../cluster/invalidation.js';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { TunnelLease } from '../ports/tunnel-registry.js';

const view = (t: TunnelRecord, online: boolean, role: string | undefined) => ({
  name: t.name,
  owner: t.ownerName,
  online,
  createdAt: t.createdAt,
  lastHostedAt: t.lastHostedAt,
  /** The caller's role: owner, admin, connect, view, or relay-admin. */
  role,
});

/**
 * The advertise URLs of the live nodes holding `leases`, in lease order: the hint a client's pool
 * uses to prefer a node that serves the tunnel itself (no hop between nodes). Best effort: a
 * registry that cannot be read gives no hint rather than failing the status.
 */
async function servedBy(nodes: NodeRegistry, leases: readonly TunnelLease[]): Promise<string[]> {
  if (leases.length === 0) return [];
  const live = new Map((await nodes.list().catch(() => [])).map((n) => [n.id, n.advertise]));
  return leases.map((l) => live.get(l.nodeId)).filter((url): url is string => Boolean(url));
}

/** Tunnels the caller may use, and one tunnel's status (what `tether connect` checks first). */
export const tunnelRoutes: FastifyPluginAsync<{ policy: Policy; registry: TunnelRegistry; invalidations: InvalidationPublisher; nodeId: string; nodes?: NodeRegistry }> = async (
  app,
  { policy, registry, invalidations, nodeId, nodes },
) => {
  app.addHook('onRequest', app.requireIdentity);

  app.get('/v1/whoami', async (request) => ({ name: request.identity?.name, admin: request.identity?.admin }));

  app.get('/v1/tunnels', async (request) => {
    const records = await policy.visibleTunnels(request.identity!);
    const leases = await registry.lookupMany(records.map((t) => t.name));
    return { tunnels: records.map((t) => view(t, leases.has(t.name), t.role)) };
  });

  app.get<{ Params: { name: string } }>('/v1/tunnels/:name', {
    schema: { params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256, title: 'tunnel name' } } } },
  }, async (request) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    const decision = await policy.authorize(request.identity!, 'tunnel.view', { kind: 'tunnel', name });
    if (!decision.allow) throw refusal(decision);
    const leases = await registry.lookup(name);
    const status = view(decision.tunnel!, leases.length > 0, decision.role);
    // In a cluster: which nodes serve it now (their advertise URLs), so a pool can prefer one.
    return nodes ? { ...status, servedBy: await servedBy(nodes, leases) } : status;
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
