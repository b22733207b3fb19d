import type { FastifyPluginAsync } from 'fastify';
import { createError, ErrorCode, rateLimited } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import { createAuthenticator, identifyByHash } from '../auth.js';
import { limitMessage } from '../limits/limit-message.js';
import type { RateLimits } from '../limits/rate-limits.js';
import type { Store } from '../ports/store.js';
import { hashToken } from '../tokens.js';
import { adminCookieReader, secretOnce } from './admin-cookie.js';
import { clearedCookie, newCsrfToken, sessionCookie, signAdminSession, SESSION_TTL_MS } from './admin-session.js';

export interface SessionRoutesOptions {
  store: Store;
  adminToken: string;
  auditor: Auditor;
  /** The relay's rate limits: wrong tokens count against sign-in failures, and a locked-out address is refused. */
  limits?: RateLimits;
  /** Rate limits in shadow mode: counted, never refused. */
  shadow?: boolean;
  /** The relay serves TLS: the cookie is `Secure`. */
  secure: boolean;
  now?: () => number;
}

const signInBody = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
} as const;

/**
 * The dashboard's session (docs/admin-dashboard.md): sign in with an admin token into an
 * HttpOnly, SameSite=Strict cookie holding a signed session (the token's hash and a CSRF token),
 * read it back, sign out. The token itself is never kept, in the cookie or in the page.
 */
export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app, { store, adminToken, auditor, limits, shadow = false, secure, now = Date.now }) => {
  const authenticate = createAuthenticator(store, adminToken);
  const secret = secretOnce((name) => store.sharedSecret(name));
  const fromCookie = adminCookieReader(secret, identifyByHash(adminToken, (hash) => store.findUserByTokenHash(hash)), now);
  const action = 'admin.sign_in';

  app.post<{ Body: { token: string } }>('/admin/api/session', { schema: { body: signInBody }, bodyLimit: 4096 }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const address = request.ip;
    if (limits) {
      const decision = await limits.signInAllowed(address);
      if (!decision.allowed && !shadow) throw rateLimited(limitMessage(decision.scope, { address }), decision.retryAfterMs);
    }
    const { token } = request.body;
    const identity = await authenticate(token).catch((err: unknown) => {
      // A blocked user's token is right but refused (USER_BLOCKED): audited, not counted as a guess.
      auditor.record(AuditEventCode.AUTH_FAILED, null, action, 'relay', { reason: (err as { code?: string }).code === ErrorCode.USER_BLOCKED ? 'user blocked' : 'sign-in failed', detail: { address } });
      throw err;
    });
    if (!identity) {
      await limits?.signInFailed(address);
      // The token refused is kept only as its keyed HMAC (the auditor replaces it).
      auditor.record(AuditEventCode.AUTH_FAILED, null, action, 'relay', { reason: 'invalid token', detail: { address, token } });
      throw createError(ErrorCode.UNAUTHORIZED, 'the relay does not accept this token (mistyped, replaced, or its user deleted)');
    }
    if (!identity.admin) {
      auditor.record(AuditEventCode.AUTH_FAILED, identity, action, 'relay', { reason: 'not a relay admin', detail: { address } });
      throw createError(ErrorCode.FORBIDDEN, `${identity.name} is not a relay admin: only admins may sign in to the dashboard`);
    }
    await limits?.signInSucceeded(identity.name);
    const csrf = newCsrfToken();
    const jwt = await signAdminSession(await secret(), { tokenHash: hashToken(token), csrf }, now(), SESSION_TTL_MS);
    auditor.record(AuditEventCode.ADMIN_SIGNED_IN, identity, action, 'relay', { detail: { address } });
    void reply.header('set-cookie', sessionCookie(jwt, secure));
    return { name: identity.name, csrf };
  });

  app.get('/admin/api/session', async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const cookie = await fromCookie(request);
    if (!cookie) throw createError(ErrorCode.UNAUTHORIZED, 'not signed in to the dashboard');
    if ('refused' in cookie) throw cookie.refused.error;
    return { name: cookie.session.identity.name, csrf: cookie.session.csrf };
  });

  app.delete('/admin/api/session', async (request, reply) => {
    const cookie = await fromCookie(request);
    // Signing out needs the CSRF token too (a page elsewhere must not sign the admin out); a
    // cookie that is no longer a session is simply removed.
    if (cookie && 'refused' in cookie && cookie.refused.error.code === ErrorCode.FORBIDDEN) throw cookie.refused.error;
    if (cookie && 'session' in cookie) auditor.record(AuditEventCode.ADMIN_SIGNED_OUT, cookie.session.identity, 'admin.sign_out', 'relay', { detail: { address: request.ip } });
    return reply.header('set-cookie', clearedCookie(secure)).header('cache-control', 'no-store').code(204).send();
  });
};
