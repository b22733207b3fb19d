import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createError, ErrorCode, TetherError } from '@tether/shared';
import { AuditEventCode } from './audit/event-codes.js';
import type { Auditor } from './audit/auditor.js';
import { ADMIN_IDENTITY, type Identity } from './identity.js';
import { refusal } from './policy/decision.js';
import type { Policy } from './policy/policy.js';
import type { Store, UserRecord } from './ports/store.js';
import { hashToken } from './tokens.js';
import { adminCookieReader, secretOnce } from './admin/admin-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
  }
  interface FastifyInstance {
    /** onRequest hook: 401 unless the request carries a valid bearer token. */
    requireIdentity: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** onRequest hook: 401/403 unless the policy lets the caller manage users (the admin token). */
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** The identity of a request that may carry a token (undefined without one, or with a bad one). */
    identify: (request: FastifyRequest) => Promise<Identity | undefined>;
  }
}

export interface AuthOptions {
  store: Store;
  adminToken: string;
  policy: Policy;
  auditor: Auditor;
  /** A request's token matched nobody (counted by the rate limits' sign-in failures). */
  invalidToken?: (request: FastifyRequest) => Promise<void>;
}

/** Resolves a token's SHA-256 (hex) to its identity (the admin's or a user's), or undefined. */
export type IdentifyByHash = (tokenHash: string) => Promise<Identity | undefined>;

const HEX_256 = /^[0-9a-f]{64}$/;

/**
 * Identities by token hash, over the store and the admin token: what a bearer token (hashed
 * here) and a session that keeps only the hash (the HTTP ingress's cookie) are both checked with.
 * Anything that is not a SHA-256 in hex matches nobody.
 */
export function identifyByHash(adminToken: string, findUserByTokenHash: (hash: string) => Promise<Pick<UserRecord, 'id' | 'name' | 'role' | 'blockedAt'> | undefined>): IdentifyByHash {
  const adminHash = Buffer.from(hashToken(adminToken), 'hex');
  return async (hash) => {
    if (!HEX_256.test(hash)) return undefined;
    if (timingSafeEqual(Buffer.from(hash, 'hex'), adminHash)) return ADMIN_IDENTITY;
    const user = await findUserByTokenHash(hash);
    // A blocked user's token matches nobody until the relay admin unblocks it.
    if (!user || user.blockedAt) return undefined;
    return { name: user.name, id: user.id, admin: user.role === 'admin' };
  };
}

/**
 * Resolves a bearer token to an identity; undefined when the token is unknown. A blocked user's
 * token is refused with USER_BLOCKED, which says so (the token itself is right).
 */
export function createAuthenticator(store: Store, adminToken: string): (token: string) => Promise<Identity | undefined> {
  const byHash = identifyByHash(adminToken, async (hash) => {
    const user = await store.findUserByTokenHash(hash);
    if (user?.blockedAt) throw createError(ErrorCode.USER_BLOCKED, `user ${user.name} is blocked on this relay (since ${user.blockedAt}): ask the relay admin to unblock it`);
    return user;
  });
  return (token) => byHash(hashToken(token));
}

/** Reads `Authorization: Bearer <token>`; runs before any WebSocket upgrade. */
export const authPlugin = fp<AuthOptions>(async (app, { store, adminToken, policy, auditor, invalidToken }) => {
  const authenticate = createAuthenticator(store, adminToken);
  // The dashboard's session cookie (docs/admin-dashboard.md): an identity when there is no bearer token.
  const fromCookie = adminCookieReader(secretOnce((name) => store.sharedSecret(name)), identifyByHash(adminToken, (hash) => store.findUserByTokenHash(hash)));
  app.decorateRequest('identity', null);

  /** Audits `reason`; the caller is told `message` (what to do as well), or the reason itself. */
  const failed = (request: FastifyRequest, reason: string, message = reason, token?: string): Error => {
    auditor.record(AuditEventCode.AUTH_FAILED, null, `${request.method} ${request.routeOptions.url ?? 'unknown route'}`, 'relay', {
      reason,
      // The token refused is kept only as its keyed HMAC (the auditor replaces it): repeated
      // tries with one token can be told apart from many tokens, and the value never stored.
      detail: token === undefined ? { address: request.ip } : { address: request.ip, token },
    });
    return createError(ErrorCode.UNAUTHORIZED, message);
  };

  const bearer = (request: FastifyRequest): string | undefined => {
    const header = request.headers.authorization;
    return (typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null)?.[1];
  };
  app.decorate('identify', async (request: FastifyRequest) => {
    const token = bearer(request);
    if (token !== undefined) return authenticate(token);
    const cookie = await fromCookie(request);
    return cookie && 'session' in cookie ? cookie.session.identity : undefined;
  });

  const requireIdentity = async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) {
      const cookie = await fromCookie(request);
      if (cookie && 'session' in cookie) {
        request.identity = cookie.session.identity;
        return;
      }
      if (cookie?.refused.count) await invalidToken?.(request);
      if (cookie) failed(request, cookie.refused.reason);
      throw cookie ? cookie.refused.error : failed(request, 'missing bearer token (Authorization: Bearer <token>)');
    }
    const identity = await authenticate(match[1]).catch((err: unknown) => {
      if (err instanceof TetherError && err.code === ErrorCode.USER_BLOCKED) failed(request, 'user blocked');
      throw err;
    });
    if (!identity) await invalidToken?.(request);
    if (!identity) throw failed(request, 'invalid token', 'the relay does not accept this token (mistyped, replaced, or its user deleted); get a new one from the relay admin', match[1]);
    request.identity = identity;
  };
  app.decorate('requireIdentity', requireIdentity);
  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    await requireIdentity(request);
    const decision = await policy.authorize(request.identity!, 'users.manage', { kind: 'relay' });
    if (!decision.allow) throw refusal(decision);
  });
}, { name: 'tether-auth' });
