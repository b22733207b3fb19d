import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { checkTunnelName, createError, ErrorCode, parseTunnelSettings, rateLimited, SUBPROTOCOL, type TunnelSettings } from '@tether/shared';
import { refusal } from '../policy/decision.js';
import type { Policy } from '../policy/policy.js';
import type { Router } from '../routing/router.js';
import { WsTransport } from '../routing/ws-transport.js';
import type { RateLimits } from '../limits/rate-limits.js';
import { limitMessage } from '../limits/limit-message.js';
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
  /** Host registrations per identity (none: not limited). */
  rateLimits?: RateLimits;
  /** Shadow mode: a registration past the limit is audited, not refused. */
  shadow?: boolean;
  auditor: Auditor;
}

export const tunnelSocketRoutes: FastifyPluginAsync<TunnelSocketOptions> = async (app, { policy, router, rateLimits, shadow = false, auditor }) => {
  const settingsOf = new WeakMap<FastifyRequest, TunnelSettings>();
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

  app.get<{ Querystring: { tunnel: string } & Record<string, string> }>('/v1/host', {
    websocket: true,
    schema: { querystring: { type: 'object', required: ['tunnel'], properties: { tunnel: { type: 'string', maxLength: 256, title: 'tunnel name' } } } },
    preHandler: async (request) => {
      const name = request.query.tunnel;
      const invalid = checkTunnelName(name);
      if (invalid) throw invalid;
      // What the host asks of the relay for its tunnel (HTTP ingress, allowed protocols, UDP).
      settingsOf.set(request, parseTunnelSettings(request.query));
      const identity = request.identity!;
      admit(request, 'tunnel.host', `tunnel:${name}`);
      const registration = await rateLimits?.registration({ identityId: identity.id, address: request.ip, admin: identity.admin });
      if (registration && !registration.allowed && !shadow) {
        limited(request, 'tunnel.host', `tunnel:${name}`, rateLimited(limitMessage(registration.scope, { address: request.ip, name: identity.name }), registration.retryAfterMs));
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
    router.attach(new WsTransport(socket, request.raw.socket), 'host', request.identity!, request.query.tunnel, request.ip, settingsOf.get(request)).client = clientOf(request.headers['user-agent']);
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
    router.attach(new WsTransport(socket, request.raw.socket), 'connector', request.identity!, undefined, request.ip).client = clientOf(request.headers['user-agent']);
  });
};

/** What a client says it is, kept for the admin views: printable ASCII, at most 128 characters. */
export function clientOf(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const clean = userAgent.replace(/[^\x20-\x7e]/g, '').slice(0, 128).trim();
  return clean === '' ? undefined : clean;
}
