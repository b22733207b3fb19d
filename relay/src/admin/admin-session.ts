import { randomBytes } from 'node:crypto';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };

/** The dashboard's session cookie (HttpOnly, SameSite=Strict, Path=/). */
export const ADMIN_COOKIE = 'tether_admin';
/** The header the page echoes its session's CSRF token in, on every state-changing call. */
export const CSRF_HEADER = 'x-tether-csrf';
/** The name of the store's shared secret the sessions are signed under (the same on every node). */
export const SESSION_SECRET_NAME = 'admin-session';
/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const ISSUER = 'tether-relay';
const AUDIENCE = 'tether-admin';
const TYPE = 'tether-admin-session+jwt';
/** A session JWT is about 300 characters; anything much longer is not one of ours. */
const MAX_COOKIE = 2048;
const HEX_256 = /^[0-9a-f]{64}$/;
const CSRF = /^[A-Za-z0-9_-]{32,64}$/;

/**
 * What a dashboard session says: the signed-in token's SHA-256 (checked again on each use, so a
 * rotated token or a user who lost the admin role ends the session at once) and the CSRF token
 * the page must echo.
 */
export interface AdminSessionClaims {
  tokenHash: string;
  csrf: string;
}

/** Why a cookie is not a session: `forged` counts like a wrong token; `expired` is an old session. */
export type SessionProblem = 'malformed' | 'forged' | 'expired';

export type SessionRead = { ok: true; claims: AdminSessionClaims; expiresAt: number } | { ok: false; problem: SessionProblem };

// jose is ECMAScript-only; this package compiles to CommonJS, so it is loaded with import().
const jose = (): Promise<typeof Jose> => import('jose');

/** A new CSRF token: 32 random bytes, base64url. */
export const newCsrfToken = (): string => randomBytes(32).toString('base64url');

/** Signs a session for `ttlMs` under `secret` (HS256). */
export async function signAdminSession(secret: string, claims: AdminSessionClaims, now: number, ttlMs = SESSION_TTL_MS): Promise<string> {
  const { SignJWT } = await jose();
  return new SignJWT({ th: claims.tokenHash, csrf: claims.csrf })
    .setProtectedHeader({ alg: 'HS256', typ: TYPE })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor((now + ttlMs) / 1000))
    .sign(new TextEncoder().encode(secret));
}

/** Reads a session cookie: its claims, or why it is not a valid session. */
export async function readAdminSession(secret: string, cookie: string, now: number): Promise<SessionRead> {
  if (cookie.length === 0 || cookie.length > MAX_COOKIE || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(cookie)) return { ok: false, problem: 'malformed' };
  const { jwtVerify, errors } = await jose();
  try {
    const { payload } = await jwtVerify(cookie, new TextEncoder().encode(secret), { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, typ: TYPE, currentDate: new Date(now) });
    if (typeof payload.th !== 'string' || !HEX_256.test(payload.th) || typeof payload.csrf !== 'string' || !CSRF.test(payload.csrf)) return { ok: false, problem: 'forged' };
    return { ok: true, claims: { tokenHash: payload.th, csrf: payload.csrf }, expiresAt: (payload.exp ?? 0) * 1000 };
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, problem: 'expired' };
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return { ok: false, problem: 'malformed' };
    return { ok: false, problem: 'forged' };
  }
}

/** The Set-Cookie value of a session (`secure` when the relay serves TLS). */
export function sessionCookie(value: string, secure: boolean, ttlMs = SESSION_TTL_MS): string {
  return `${ADMIN_COOKIE}=${value}; Path=/; Max-Age=${Math.floor(ttlMs / 1000)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that removes the session. */
export function clearedCookie(secure: boolean): string {
  return `${ADMIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Compares the CSRF header with the session's token (a missing or repeated header never matches). */
export function csrfMatches(header: string | string[] | undefined, csrf: string): boolean {
  if (typeof header !== 'string' || header.length !== csrf.length) return false;
  let diff = 0;
  for (let i = 0; i < csrf.length; i++) diff |= header.charCodeAt(i) ^ csrf.charCodeAt(i);
  return diff === 0;
}
