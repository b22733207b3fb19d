import type { FastifyPluginAsync } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import type { NodeRegistry } from './node-registry.js';

/**
 * `GET /v1/cluster/nodes` (admin): the live nodes of the cluster, from their heartbeats in
 * Redis. A single relay (SQLite) has no cluster: 404 with TETHER_ERR_NOT_FOUND saying so.
 */
export const clusterRoutes: FastifyPluginAsync<{ nodes: NodeRegistry | undefined }> = async (app, { nodes }) => {
  app.addHook('onRequest', app.requireAdmin);
  app.get('/v1/cluster/nodes', async () => {
    if (!nodes) throw createError(ErrorCode.NOT_FOUND, 'this relay is a single node (users in SQLite): it has no cluster; relays started with --redis form one (docs/cluster.md)');
    return { nodes: await nodes.list() };
  });
};
