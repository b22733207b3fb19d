import type { FastifyPluginAsync } from 'fastify';
import { checkUserName, createError, ErrorCode } from '@tether/shared';
import type { Router } from '../router.js';
import type { Store } from '../store.js';
import { generateToken, hashToken } from '../tokens.js';

const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 63 } },
} as const;

/** Admin API for users. A token is shown once, when it is created or rotated. */
export const userRoutes: FastifyPluginAsync<{ store: Store; router: Router }> = async (app, { store, router }) => {
  app.addHook('onRequest', app.requireAdmin);

  app.post<{ Body: { name: string } }>('/v1/users', {
    schema: {
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string', maxLength: 63 } },
      },
    },
  }, async (request, reply) => {
    const invalid = checkUserName(request.body.name);
    if (invalid) throw invalid;
    if (request.body.name === 'admin') throw createError(ErrorCode.INVALID_ARGUMENT, 'the name admin is reserved for the admin identity');
    const token = generateToken();
    const user = store.createUser(request.body.name, hashToken(token));
    request.log.info({ user: user.name, by: request.identity?.name }, 'user created');
    return reply.code(201).send({ name: user.name, createdAt: user.createdAt, token });
  });

  app.get('/v1/users', async () => ({ users: store.listUsers().map((u) => ({ name: u.name, createdAt: u.createdAt })) }));

  app.post<{ Params: { name: string } }>('/v1/users/:name/token', { schema: { params: nameParam } }, async (request) => {
    const user = store.findUserByName(request.params.name);
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    const token = generateToken();
    store.rotateUserToken(user.name, hashToken(token));
    const closed = router.disconnectIdentity(user.id, 'token replaced');
    request.log.info({ user: user.name, by: request.identity?.name, closed }, 'user token rotated');
    return { name: request.params.name, token };
  });

  app.delete<{ Params: { name: string } }>('/v1/users/:name', { schema: { params: nameParam } }, async (request, reply) => {
    const user = store.findUserByName(request.params.name);
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${request.params.name}`);
    store.deleteUser(user.name);
    const closed = router.disconnectIdentity(user.id, 'user deleted');
    request.log.info({ user: user.name, by: request.identity?.name, closed }, 'user deleted');
    return reply.code(204).send();
  });
};
