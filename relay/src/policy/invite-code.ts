import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import { createError, ErrorCode } from '@tether/shared';
import type { InviteRecord, TunnelRole } from '../ports/team-store.js';
import { TUNNEL_ROLES } from '../ports/team-store.js';

/** What an invite code says; what it grants is decided by the invite record it names. */
export interface InviteClaims {
  /** The invite's id in the store. */
  id: string;
  tunnel: string;
  role: TunnelRole;
  /** Expiry, ms. */
  expiresAt: number;
}

const ISSUER = 'tether-relay';
const TYPE = 'tether-invite+jwt';
/** Longest code accepted before any parsing (a JWT of these claims is ~300 characters). */
const MAX_CODE = 2048;

// jose is ECMAScript-only; this package compiles to CommonJS, so it is loaded with import().
const jose = (): Promise<typeof Jose> => import('jose');

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/**
 * Signs an invite as a compact JWT (HS256, under a secret the relay keeps in its store, the
 * same on every node). The code names the invite and repeats what it is for, so a client can
 * show it before accepting; it grants nothing by itself: accepting checks the invite record
 * (revoked, used up, expired, bound to a user).
 */
export async function signInvite(secret: string, invite: InviteRecord): Promise<string> {
  const { SignJWT } = await jose();
  return new SignJWT({ tunnel: invite.tunnel, role: invite.role })
    .setProtectedHeader({ alg: 'HS256', typ: TYPE })
    .setIssuer(ISSUER)
    .setJti(invite.id)
    .setIssuedAt(Math.floor(Date.parse(invite.createdAt) / 1000))
    .setExpirationTime(Math.ceil(Date.parse(invite.expiresAt) / 1000))
    .sign(keyOf(secret));
}

/**
 * Checks an invite code's signature and form; resolves its claims. Malformed, truncated, forged
 * or re-signed codes are INVITE_INVALID; a code past its expiry is INVITE_EXPIRED (checked
 * against `now`, ms). The store is the judge of everything else.
 */
export async function readInvite(secret: string, code: string, now: number): Promise<InviteClaims> {
  const text = code.trim();
  if (text.length === 0 || text.length > MAX_CODE || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text)) {
    throw createError(ErrorCode.INVITE_INVALID, 'that is not an invite code: check that it was copied whole');
  }
  const { jwtVerify, errors } = await jose();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(text, keyOf(secret), { algorithms: ['HS256'], issuer: ISSUER, typ: TYPE, currentDate: new Date(now) }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw createError(ErrorCode.INVITE_EXPIRED, 'this invite has expired: ask for a new one');
    throw createError(ErrorCode.INVITE_INVALID, 'that invite code was not issued by this relay, or was altered: ask for a new one');
  }
  const { jti, tunnel, role, exp } = payload;
  if (typeof jti !== 'string' || typeof tunnel !== 'string' || typeof exp !== 'number' || !TUNNEL_ROLES.includes(role as TunnelRole)) {
    throw createError(ErrorCode.INVITE_INVALID, 'that invite code is incomplete: ask for a new one');
  }
  return { id: jti, tunnel, role: role as TunnelRole, expiresAt: exp * 1000 };
}

/**
 * The invite id inside a code, without checking it (`tether invite revoke CODE`: the relay checks
 * the caller's right to revoke); undefined when it is no JWT with an id.
 */
export function inviteIdOf(code: string): string | undefined {
  const part = code.trim().split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof claims.jti === 'string' ? claims.jti : undefined;
  } catch {
    return undefined;
  }
}
