import type { FastifyRequest } from 'fastify';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { IdentifyByHash } from '../auth.js';
import type { Identity } from '../identity.js';
import { cookieValue } from '../ingress/http/ingress-session.js';
import { ADMIN_COOKIE, CSRF_HEADER, csrfMatches, readAdminSession, SESSION_SECRET_NAME, type SessionProblem } from './admin-session.js';

/** A valid dashboard session: who it is, and the CSRF token its page echoes. */
export interface CookieSession {
  identity: Identity;
  csrf: string;
}

/** A session cookie that was refused: the coded error, what the audit says, and whether it counts as a failed sign-in. */
export interface CookieRefusal {
  error: TetherError;
  reason: string;
  /** A forged cookie counts against sign-in failures like a wrong token; an expired one does not. */
  count: boolean;
}

export type CookieOutcome = { session: CookieSession } | { refused: CookieRefusal };

/** Methods that change nothing: no CSRF token needed. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const PROBLEM: Record<SessionProblem, [string, string]> = {
  malformed: ['malformed dashboard session cookie', 'the dashboard session cookie is malformed: sign in again'],
  forged: ['dashboard session cookie with a bad signature', 'the dashboard session cookie is not valid on this relay: sign in again'],
  expired: ['dashboard session expired', 'the dashboard session has expired: sign in again'],
};

const refused = (code: typeof ErrorCode.UNAUTHORIZED | typeof ErrorCode.FORBIDDEN, reason: string, message: string, count = false): { refused: CookieRefusal } =>
  ({ refused: { error: createError(code, message), reason, count } });

/** The shared secret, read once per process (a failed read is tried again next time). */
export function secretOnce(read: (name: string) => Promise<string>): () => Promise<string> {
  let secret: Promise<string> | undefined;
  return () => {
    secret ??= read(SESSION_SECRET_NAME).catch((err: unknown) => {
      secret = undefined;
      throw err;
    });
    return secret;
  };
}

/**
 * Reads the dashboard's session cookie of a request: undefined without one; otherwise the
 * session (its token still an admin's) or why it is refused. State-changing methods must carry
 * the session's CSRF token in `x-tether-csrf`.
 */
export function adminCookieReader(secret: () => Promise<string>, byHash: IdentifyByHash, now: () => number = Date.now): (request: FastifyRequest) => Promise<CookieOutcome | undefined> {
  return async (request) => {
    const cookie = cookieValue(request.headers.cookie, ADMIN_COOKIE);
    if (cookie === undefined || cookie === '') return undefined;
    // The dashboard never opens a WebSocket. A browser sends the cookie along with any same-site
    // upgrade (a page of a tunnel under --public-domain is same-site), and an upgrade is a GET
    // that no CSRF token guards: the cookie opens no host or connector link, only a token does.
    if (request.headers.upgrade !== undefined) {
      return refused(ErrorCode.UNAUTHORIZED, 'dashboard session cookie on a WebSocket upgrade', 'the dashboard session does not open tunnel connections: send a token (Authorization: Bearer <token>)');
    }
    const read = await readAdminSession(await secret(), cookie, now());
    if (!read.ok) {
      const [reason, message] = PROBLEM[read.problem];
      return refused(ErrorCode.UNAUTHORIZED, reason, message, read.problem === 'forged');
    }
    const identity = await byHash(read.claims.tokenHash);
    if (!identity) return refused(ErrorCode.UNAUTHORIZED, 'dashboard session of a token no longer valid', 'the token this dashboard session was signed in with is no longer valid (replaced, its user blocked or deleted): sign in again');
    if (!identity.admin) return refused(ErrorCode.UNAUTHORIZED, 'dashboard session of a user who is no longer an admin', `${identity.name} is no longer a relay admin: the dashboard session has ended`);
    if (!SAFE.has(request.method) && !csrfMatches(request.headers[CSRF_HEADER], read.claims.csrf)) {
      return refused(ErrorCode.FORBIDDEN, 'CSRF check failed', `CSRF check failed: a ${request.method} with the dashboard session cookie must carry the session's token in ${CSRF_HEADER}`);
    }
    return { session: { identity, csrf: read.claims.csrf } };
  };
}
