import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import { ADMIN_IDENTITY, type Identity } from './identity.js';
import type { Store } from './store.js';
import { hashToken } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
  }
  interface FastifyInstance {
    /** onRequest hook: 401 unless the request carries a valid bearer token. */
    requireIdentity: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** onRequest hook: 401/403 unless the request carries the admin token. */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

export interface AuthOptions {
  store: Store;
  adminToken: string;
}

/** Resolves a bearer token to an identity; undefined when the token is unknown. */
export function createAuthenticator(store: Store, adminToken: string): (token: string) => Identity | undefined {
  const adminHash = Buffer.from(hashToken(adminToken), 'hex');
  return (token) => {
    const hash = hashToken(token);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), adminHash)) return ADMIN_IDENTITY;
    const user = store.findUserByTokenHash(hash);
    return user && { name: user.name, id: user.id, admin: false };
  };
}

/** Reads `Authorization: Bearer <token>`; runs before any WebSocket upgrade. */
export const authPlugin = fp<AuthOptions>(async (app, options) => {
  const authenticate = createAuthenticator(options.store, options.adminToken);
  app.decorateRequest('identity', null);

  const requireIdentity = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) throw createError(ErrorCode.UNAUTHORIZED, 'missing bearer token (Authorization: Bearer <token>)');
    const identity = authenticate(match[1]);
    if (!identity) throw createError(ErrorCode.UNAUTHORIZED, 'invalid token');
    request.identity = identity;
  };
  app.decorate('requireIdentity', requireIdentity);
  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    await requireIdentity(request);
    if (!request.identity?.admin) throw createError(ErrorCode.FORBIDDEN, 'this needs the admin token');
  });
}, { name: 'tether-auth' });
