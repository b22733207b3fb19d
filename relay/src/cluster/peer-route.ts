import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import { peerIdentity } from '../identity.js';
import type { Router } from '../routing/router.js';
import { WsTransport } from '../routing/ws-transport.js';
import { verifyPeerAuth } from './peer-auth.js';
import { PEER_PATH } from './peer-links.js';

export interface PeerRouteOptions {
  selfId: string;
  secret: string;
  router: Pick<Router, 'attach' | 'draining'>;
}

/**
 * `GET /v1/peer` (WebSocket): the peer links other nodes of the cluster open to this one. Only
 * a node holding the cluster secret gets in (an HMAC of both node ids and the time, checked
 * before the upgrade); user tokens, even the admin's, do not open peer links.
 */
export const peerRoutes: FastifyPluginAsync<PeerRouteOptions> = async (app, { selfId, secret, router }) => {
  const callers = new WeakMap<FastifyRequest, string>();
  app.get(PEER_PATH, {
    websocket: true,
    preHandler: async (request) => {
      const from = verifyPeerAuth(secret, selfId, request.headers);
      if (typeof from !== 'string') {
        request.log.warn({ reason: from.message }, 'peer link refused');
        throw from;
      }
      if (from === selfId) throw createError(ErrorCode.UNAUTHORIZED, `a peer link from a node with this node's own id (${selfId}): every node needs its own --node-id`);
      if (router.draining) throw createError(ErrorCode.GOING_AWAY, 'relay is shutting down');
      callers.set(request, from);
    },
  }, (socket, request) => {
    const from = callers.get(request)!;
    router.attach(new WsTransport(socket, request.raw.socket), 'peerIn', peerIdentity(from), undefined, request.ip);
    request.log.info({ node: from }, 'peer link accepted');
  });
};
