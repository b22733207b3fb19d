import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { verifyPeerAuth } from './peer-auth.js';
import { SNAPSHOT_PATH, TERMINATE_PATH, type NodeSnapshot } from './cluster-views.js';

export interface ClusterViewRouteOptions {
  selfId: string;
  secret: string;
  local: () => NodeSnapshot;
  terminateLocal: (linkId: number, streamId: number, why: string) => boolean;
}

/**
 * What other nodes of the cluster ask this one for the admin's views (cluster-views.ts): its
 * snapshot, and ending one of its streams. Only a node holding the cluster secret is answered.
 */
export const clusterViewRoutes: FastifyPluginAsync<ClusterViewRouteOptions> = async (app, { selfId, secret, local, terminateLocal }) => {
  const onlyNodes = async (request: FastifyRequest): Promise<void> => {
    const from = verifyPeerAuth(secret, selfId, request.headers);
    if (typeof from !== 'string') throw from;
  };

  app.get(SNAPSHOT_PATH, { onRequest: onlyNodes }, async () => local());

  app.post<{ Body: { linkId: number; streamId: number; reason: string } }>(TERMINATE_PATH, {
    onRequest: onlyNodes,
    schema: {
      body: {
        type: 'object',
        required: ['linkId', 'streamId', 'reason'],
        additionalProperties: false,
        properties: {
          linkId: { type: 'integer', minimum: 0, title: 'link id' },
          streamId: { type: 'integer', minimum: 0, title: 'stream id' },
          reason: { type: 'string', maxLength: 300, title: 'reason' },
        },
      },
    },
  }, async (request) => ({ terminated: terminateLocal(request.body.linkId, request.body.streamId, request.body.reason) }));
};
