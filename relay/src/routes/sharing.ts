import type { FastifyPluginAsync } from 'fastify';
import { checkTunnelName, NAME_MAX_LENGTH } from '@tether/shared';
import type { Sharing } from '../policy/sharing.js';
import type { TunnelRole, TunnelSettings } from '../ports/team-store.js';

const role = { type: 'string', enum: ['admin', 'connect', 'view'], title: 'role' } as const;
const tunnelParam = { type: 'string', maxLength: 256, title: 'tunnel name' } as const;
const userParam = { type: 'string', maxLength: NAME_MAX_LENGTH, title: 'user name' } as const;
const idParam = { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', title: 'id' } as const;
const ms = (title: string, max: number) => ({ type: 'integer', minimum: 1000, maximum: max, title }) as const;
const reason = { type: 'string', maxLength: 500, title: 'reason' } as const;

const params = <P extends Record<string, object>>(properties: P) => ({ type: 'object', required: Object.keys(properties), properties }) as const;
const body = <P extends Record<string, object>>(properties: P, required: string[] = []) => ({ type: 'object', additionalProperties: false, required, properties }) as const;

/** Tunnel names in paths are checked like everywhere else (a coded INVALID_TUNNEL_NAME). */
function tunnelOf(name: string): string {
  const invalid = checkTunnelName(name);
  if (invalid) throw invalid;
  return name;
}

/**
 * Sharing a tunnel over HTTP: members, invites, access requests, settings. Every handler is one
 * call of `Sharing`, which decides through the policy and audits; bodies are validated by schema
 * (no unknown fields, no coercion), and every refusal is a coded `{ code, message }`.
 */
export const sharingRoutes: FastifyPluginAsync<{ sharing: Sharing }> = async (app, { sharing }) => {
  app.addHook('onRequest', app.requireIdentity);

  type T = { Params: { name: string } };
  type TU = { Params: { name: string; user: string } };

  app.get<T>('/v1/tunnels/:name/members', { schema: { params: params({ name: tunnelParam }) } }, async (request) =>
    sharing.members(request.identity!, tunnelOf(request.params.name)));

  app.put<TU & { Body: { role: TunnelRole; expiresAt?: string | null } }>('/v1/tunnels/:name/members/:user', {
    schema: { params: params({ name: tunnelParam, user: userParam }), body: body({ role, expiresAt: { type: ['string', 'null'], format: 'date-time', title: 'expiry' } }, ['role']) },
  }, async (request) => sharing.setMember(request.identity!, tunnelOf(request.params.name), request.params.user, request.body.role, request.body.expiresAt ?? null));

  app.delete<TU>('/v1/tunnels/:name/members/:user', { schema: { params: params({ name: tunnelParam, user: userParam }) } }, async (request, reply) => {
    await sharing.removeMember(request.identity!, tunnelOf(request.params.name), request.params.user);
    return reply.code(204).send();
  });

  app.put<TU>('/v1/tunnels/:name/members/:user/block', { schema: { params: params({ name: tunnelParam, user: userParam }) } }, async (request) =>
    sharing.block(request.identity!, tunnelOf(request.params.name), request.params.user, true));

  app.delete<TU>('/v1/tunnels/:name/members/:user/block', { schema: { params: params({ name: tunnelParam, user: userParam }) } }, async (request) =>
    sharing.block(request.identity!, tunnelOf(request.params.name), request.params.user, false));

  app.get<T>('/v1/tunnels/:name/settings', { schema: { params: params({ name: tunnelParam }) } }, async (request) =>
    sharing.settings(request.identity!, tunnelOf(request.params.name)));

  app.patch<T & { Body: Partial<TunnelSettings> }>('/v1/tunnels/:name/settings', {
    schema: {
      params: params({ name: tunnelParam }),
      body: body({ approval: { type: 'string', enum: ['none', 'required'], title: 'approval' }, approvals: { type: 'integer', minimum: 1, maximum: 10, title: 'approvals' }, maxDurationMs: { type: ['integer', 'null'], minimum: 1000, title: 'longest access' } }),
    },
  }, async (request) => sharing.settings(request.identity!, tunnelOf(request.params.name), request.body));

  app.post<T & { Body: { role?: TunnelRole; expiresInMs?: number; uses?: number; user?: string } }>('/v1/tunnels/:name/invites', {
    schema: { params: params({ name: tunnelParam }), body: body({ role, expiresInMs: ms('invite lifetime', 30 * 86_400_000), uses: { type: 'integer', minimum: 1, maximum: 1000, title: 'uses' }, user: userParam }) },
  }, async (request, reply) => reply.code(201).send(await sharing.createInvite(request.identity!, tunnelOf(request.params.name), request.body ?? {})));

  app.get<T>('/v1/tunnels/:name/invites', { schema: { params: params({ name: tunnelParam }) } }, async (request) =>
    ({ invites: await sharing.listInvites(request.identity!, tunnelOf(request.params.name)) }));

  app.delete<{ Params: { id: string } }>('/v1/invites/:id', { schema: { params: params({ id: idParam }) } }, async (request, reply) => {
    await sharing.revokeInvite(request.identity!, request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Body: { code: string } }>('/v1/invites/accept', { schema: { body: body({ code: { type: 'string', maxLength: 4096, title: 'invite code' } }, ['code']) } }, async (request, reply) => {
    const accepted = await sharing.acceptInvite(request.identity!, request.body.code);
    return reply.code(accepted.request ? 202 : 200).send(accepted);
  });

  app.post<T & { Body: { role?: TunnelRole; durationMs?: number; reason?: string } }>('/v1/tunnels/:name/requests', {
    schema: { params: params({ name: tunnelParam }), body: body({ role, durationMs: ms('duration', 365 * 86_400_000), reason }) },
  }, async (request, reply) => reply.code(201).send(await sharing.requestAccess(request.identity!, tunnelOf(request.params.name), request.body ?? {})));

  app.get<{ Querystring: { pending?: boolean } }>('/v1/requests', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { pending: { type: 'string', enum: ['true', 'false', '1', '0'], title: 'pending' } } } },
  }, async (request) => ({ requests: await sharing.listRequests(request.identity!, ['true', '1'].includes(String(request.query.pending))) }));

  for (const decision of ['approve', 'deny'] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: string } }>(`/v1/requests/:id/${decision}`, {
      schema: { params: params({ id: idParam }), body: body({ reason }) },
    }, async (request) => sharing.review(request.identity!, request.params.id, decision, request.body?.reason));
  }
};
