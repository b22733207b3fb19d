import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { checkTunnelName, createError, ErrorCode, SUBPROTOCOL } from '@tether/shared';
import { refusal } from '../policy/decision.js';
import type { Policy } from '../policy/policy.js';
import type { Router } from '../routing/router.js';
import { WsTransport } from '../routing/ws-transport.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Auditor } from '../audit/auditor.js';
import { AuditEventCode } from '../audit/event-codes.js';

/** Refuses an unknown protocol version before the upgrade, with a code. */
function requireSubprotocol(request: FastifyRequest): void {
  const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(SUBPROTOCOL)) {
    const shown = offered.filter(Boolean).join(', ') || 'none';
    throw createError(ErrorCode.UNSUPPORTED_VERSION, `unsupported protocol version (offered: ${shown.slice(0, 100)}; supported: ${SUBPROTOCOL})`);
  }
}

/**
 * WebSocket endpoints. Everything that can refuse a connection (token, version, tunnel name,
 * access, a second host for one tunnel) runs in hooks, before the upgrade, so a refusal is a
 * plain HTTP error with a JSON body `{ code, message }`.
 */
export interface TunnelSocketOptions {
  policy: Policy;
  router: Router;
  /** Host registrations per identity and minute. */
  registrations: RateLimiter<number>;
  auditor: Auditor;
}

export const tunnelSocketRoutes: FastifyPluginAsync<TunnelSocketOptions> = async (app, { policy, router, registrations, auditor }) => {
  app.addHook('onRequest', app.requireIdentity);

  /** A limit refused the connection: audited (`limit.refused`), then the coded error is thrown. */
  const limited = (request: FastifyRequest, action: string, resource: string, err: Error): never => {
    auditor.record(AuditEventCode.LIMIT_REFUSED, request.identity, action, resource, { reason: err.message, detail: { address: request.ip } });
    throw err;
  };
  const admit = (request: FastifyRequest, action: string, resource: string): void => {
    try {
      router.admit(request.identity!, request.ip);
    } catch (err) {
      limited(request, action, resource, err as Error);
    }
  };
  app.addHook('preValidation', async (request) => requireSubprotocol(request));

  app.get<{ Querystring: { tunnel: string } }>('/v1/host', {
    websocket: true,
    schema: { querystring: { type: 'object', required: ['tunnel'], properties: { tunnel: { type: 'string', maxLength: 256, title: 'tunnel name' } } } },
    preHandler: async (request) => {
      const name = request.query.tunnel;
      const invalid = checkTunnelName(name);
      if (invalid) throw invalid;
      const identity = request.identity!;
      admit(request, 'tunnel.host', `tunnel:${name}`);
      if (!identity.admin && !registrations.take(identity.id)) {
        const seconds = Math.ceil(registrations.retryAfterMs(identity.id) / 1000);
        limited(request, 'tunnel.host', `tunnel:${name}`, createError(ErrorCode.QUOTA_EXCEEDED, `${identity.name} registered tunnels too often: try again in ${seconds} s`));
      }
      const decision = await policy.authorizeHost(identity, name);
      if (!decision.allow) throw refusal(decision);
      // A host already holds the tunnel: refused, unless that link is the same user's and dead.
      if (router.hostFor(name) && (await router.incumbentAlive(name, identity.id))) {
        throw createError(ErrorCode.TUNNEL_IN_USE, `tunnel ${name} is already being shared`);
      }
      if (router.draining) throw createError(ErrorCode.GOING_AWAY, 'relay is shutting down');
    },
  }, (socket, request) => {
    router.attach(new WsTransport(socket), 'host', request.identity!, request.query.tunnel, request.ip);
  });

  app.get('/v1/connect', {
    websocket: true,
    preHandler: async (request) => {
      const decision = await policy.authorize(request.identity!, 'relay.connect', { kind: 'relay' });
      if (!decision.allow) throw refusal(decision);
      admit(request, 'relay.connect', 'relay');
      if (router.draining) throw createError(ErrorCode.GOING_AWAY, 'relay is shutting down');
    },
  }, (socket, request) => {
    router.attach(new WsTransport(socket), 'connector', request.identity!, undefined, request.ip);
  });
};
