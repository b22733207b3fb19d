import type { FastifyPluginAsync } from 'fastify';
import { checkUserName, createError, ErrorCode, NAME_MAX_LENGTH } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { Policy } from '../policy/policy.js';
import type { Store, UserRecord, UserRole } from '../ports/store.js';
import type { Router } from '../routing/router.js';
import type { InvalidationPublisher } from '../cluster/invalidation.js';
import { generateToken, hashToken } from '../tokens.js';

const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: NAME_MAX_LENGTH, title: 'user name' } },
} as const;

/** A user as the admin API shows it (never its token or token hash). */
const userView = (u: UserRecord): { name: string; createdAt: string; role: UserRole; blockedAt: string | null } => ({
  name: u.name,
  createdAt: u.createdAt,
  role: u.role ?? 'member',
  blockedAt: u.blockedAt ?? null,
});

/** Admin API for users. A token is shown once, when it is created or rotated. */
export const userRoutes: FastifyPluginAsync<{ store: Store; router: Router; auditor: Auditor; policy: Policy; invalidations: InvalidationPublisher; nodeId: string }> = async (
  app,
  { store, router, auditor, policy, invalidations, nodeId },
) => {
  app.addHook('onRequest', app.requireAdmin);

  /** Closes the links of a credential that stopped being valid, and says so in the audit log. */
  const revoke = (by: Parameters<Auditor['record']>[1], user: { id: number; name: string }, why: string, deleted: boolean): number => {
    const closed = router.disconnectIdentity(user.id, why);
    // Every other node closes its links of this user too (cluster: over Redis pub/sub).
    invalidations.publish({ kind: 'user-revoked', origin: nodeId, userId: user.id, user: user.name, reason: why, deleted });
    if (closed > 0) auditor.record(AuditEventCode.LINKS_REVOKED, by, 'users.manage', `user:${user.name}`, { reason: why, detail: { closed } });
    return closed;
  };

  app.post<{ Body: { name: string } }>('/v1/users', {
    schema: {
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string', maxLength: NAME_MAX_LENGTH, title: 'user name' } },
      },
    },
  }, async (request, reply) => {
    const invalid = checkUserName(request.body.name);
    if (invalid) throw invalid;
    if (request.body.name === 'admin') throw createError(ErrorCode.INVALID_ARGUMENT, 'the name admin is reserved for the admin identity');
    const token = generateToken();
    const user = await store.createUser(request.body.name, hashToken(token));
    auditor.record(AuditEventCode.USER_CREATED, request.identity, 'users.manage', `user:${user.name}`);
    request.log.info({ user: user.name, by: request.identity?.name }, 'user created');
    return reply.code(201).send({ name: user.name, createdAt: user.createdAt, token });
  });

  app.get('/v1/users', async () => ({ users: (await store.listUsers()).map(userView) }));

  /** Blocks a user: its token is refused and its connections close, on every node. */
  app.put<{ Params: { name: string } }>('/v1/users/:name/block', { schema: { params: nameParam } }, async (request) => {
    const user = await store.updateUser(request.params.name, { blocked: true });
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    auditor.record(AuditEventCode.USER_BLOCKED, request.identity, 'users.manage', `user:${user.name}`);
    const closed = revoke(request.identity, user, 'user blocked by the relay admin', false);
    request.log.info({ user: user.name, by: request.identity?.name, closed }, 'user blocked');
    return userView(user);
  });

  app.delete<{ Params: { name: string } }>('/v1/users/:name/block', { schema: { params: nameParam } }, async (request) => {
    const user = await store.updateUser(request.params.name, { blocked: false });
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    auditor.record(AuditEventCode.USER_UNBLOCKED, request.identity, 'users.manage', `user:${user.name}`);
    return userView(user);
  });

  /** Makes a user an admin of the relay (its token is as good as the admin token), or a member again. */
  app.put<{ Params: { name: string }; Body: { role: UserRole } }>('/v1/users/:name/role', {
    schema: {
      params: nameParam,
      body: { type: 'object', required: ['role'], additionalProperties: false, properties: { role: { type: 'string', enum: ['admin', 'member'], title: 'role' } } },
    },
  }, async (request) => {
    const before = await store.findUserByName(request.params.name);
    if (!before) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    if (before.id === request.identity?.id && request.body.role !== 'admin') {
      throw createError(ErrorCode.INVALID_ARGUMENT, 'you cannot take the admin role from yourself: ask another admin, or use the admin token');
    }
    const user = await store.updateUser(before.name, { role: request.body.role });
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    auditor.record(AuditEventCode.USER_ROLE_CHANGED, request.identity, 'users.manage', `user:${user.name}`, { detail: { role: request.body.role, was: before.role ?? 'member' } });
    // Links keep the identity they were opened with: an admin made a member again reconnects as one.
    if (before.role === 'admin' && request.body.role !== 'admin') revoke(request.identity, user, 'admin role removed', false);
    return userView(user);
  });

  app.post<{ Params: { name: string } }>('/v1/users/:name/token', { schema: { params: nameParam } }, async (request) => {
    const user = await store.findUserByName(request.params.name);
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    const token = generateToken();
    await store.rotateUserToken(user.name, hashToken(token));
    auditor.record(AuditEventCode.USER_TOKEN_ROTATED, request.identity, 'users.manage', `user:${user.name}`);
    const closed = revoke(request.identity, user, 'token replaced', false);
    request.log.info({ user: user.name, by: request.identity?.name, closed }, 'user token rotated');
    return { name: request.params.name, token };
  });

  app.delete<{ Params: { name: string } }>('/v1/users/:name', { schema: { params: nameParam } }, async (request, reply) => {
    const user = await store.findUserByName(request.params.name);
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    await store.deleteUser(user.name);
    policy.forgetUsers();
    auditor.record(AuditEventCode.USER_DELETED, request.identity, 'users.manage', `user:${user.name}`);
    const closed = revoke(request.identity, user, 'user deleted', true);
    request.log.info({ user: user.name, by: request.identity?.name, closed }, 'user deleted');
    return reply.code(204).send();
  });
};
