import type * as Jose from 'jose' with { 'resolution-mode': 'import' };

/** What a session cookie of the HTTP ingress says (a compact JWT, HS256). */
export type SessionClaims =
  /** A user signed in with its token: the token's hash is checked again on each use (revocation). */
  | { kind: 'user'; tunnel: string; tokenHash: string }
  /** A visitor who showed the tunnel's access token: valid while the host keeps that token. */
  | { kind: 'token'; tunnel: string; accessHash: string };

const ISSUER = 'tether-relay';
const TYPE = 'tether-ingress-session+jwt';
const MAX_COOKIE = 2048;

// jose is ECMAScript-only; this package compiles to CommonJS, so it is loaded with import().
const jose = (): Promise<typeof Jose> => import('jose');

/** Signs a session for `ttlMs` under `secret` (the relay's shared secret: the same on every node). */
export async function signSession(secret: string, claims: SessionClaims, now: number, ttlMs: number): Promise<string> {
  const { SignJWT } = await jose();
  const body = claims.kind === 'user' ? { k: 'user', th: claims.tokenHash } : { k: 'token', ah: claims.accessHash };
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'HS256', typ: TYPE })
    .setIssuer(ISSUER)
    .setAudience(claims.tunnel)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor((now + ttlMs) / 1000))
    .sign(new TextEncoder().encode(secret));
}

/** The claims of a valid session of `tunnel`, or undefined (forged, expired, another tunnel's). */
export async function readSession(secret: string, tunnel: string, cookie: string, now: number): Promise<SessionClaims | undefined> {
  if (cookie.length > MAX_COOKIE) return undefined;
  const { jwtVerify } = await jose();
  try {
    const { payload } = await jwtVerify(cookie, new TextEncoder().encode(secret), { algorithms: ['HS256'], issuer: ISSUER, audience: tunnel, typ: TYPE, currentDate: new Date(now) });
    if (payload.k === 'user' && typeof payload.th === 'string') return { kind: 'user', tunnel, tokenHash: payload.th };
    if (payload.k === 'token' && typeof payload.ah === 'string') return { kind: 'token', tunnel, accessHash: payload.ah };
    return undefined;
  } catch {
    return undefined;
  }
}

/** The value of cookie `name` in a Cookie field, or undefined. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(header) ? header.join('; ') : header;
  if (!all) return undefined;
  for (const part of all.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
