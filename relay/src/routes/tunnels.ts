import type { FastifyPluginAsync } from 'fastify';
import { checkTunnelName } from '@tether/shared';
import { authorize } from '../policy.js';
import type { Router } from '../router.js';
import type { Store, TunnelRecord } from '../store.js';

const view = (router: Router) => (t: TunnelRecord) => ({
  name: t.name,
  owner: t.ownerName,
  online: router.hostFor(t.name) !== undefined,
  createdAt: t.createdAt,
  lastHostedAt: t.lastHostedAt,
});

/** Tunnels the caller may use, and one tunnel's status (what `tether connect` checks first). */
export const tunnelRoutes: FastifyPluginAsync<{ store: Store; router: Router }> = async (app, { store, router }) => {
  app.addHook('onRequest', app.requireIdentity);

  app.get('/v1/whoami', async (request) => ({ name: request.identity?.name, admin: request.identity?.admin }));

  app.get('/v1/tunnels', async (request) => {
    const identity = request.identity!;
    const records = identity.admin ? store.listTunnels() : store.listTunnels(identity.id);
    return { tunnels: records.map(view(router)) };
  });

  app.get<{ Params: { name: string } }>('/v1/tunnels/:name', {
    schema: { params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256 } } } },
  }, async (request) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    const record = store.getTunnel(name);
    const denied = authorize(request.identity!, 'view', record, name);
    if (denied) throw denied;
    return view(router)(record!);
  });
};
