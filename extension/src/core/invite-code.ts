import { checkTunnelName, createError, ErrorCode } from '@tether/shared';
import { TUNNEL_ROLES, type TunnelRole } from './sharing-types.js';

/**
 * The invite id (`jti`) inside an invite code, read without checking the signature, or
 * undefined when `code` is no JWT with an id. `tether invite revoke CODE` needs only the id (the
 * relay decides whether the caller may revoke it), and the client has no key to check it with.
 * The same decode as the relay's inviteIdOf, re-done here: the client core loads no relay code.
 */
export function inviteIdOf(code: string): string | undefined {
  const parts = code.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { jti } = claims as { jti?: unknown };
    return typeof jti === 'string' && jti.length > 0 ? jti : undefined;
  } catch {
    return undefined;
  }
}

/** What an invite code says about itself, read without its signature: unverified until the relay accepts it. */
export interface InviteClaims {
  id: string;
  tunnel: string;
  role: TunnelRole;
  /** When the code stops being accepted (ms since the epoch), when it says. */
  expiresAt?: number;
}

/**
 * The claims in the middle part of an invite code (the relay signs `{ jti, tunnel, role, exp }`),
 * or undefined when it is no such code. For a confirmation question only: the relay decides.
 */
export function inviteClaimsOf(code: string): InviteClaims | undefined {
  const parts = code.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { jti, tunnel, role, exp } = claims as { jti?: unknown; tunnel?: unknown; role?: unknown; exp?: unknown };
    if (typeof jti !== 'string' || !jti || typeof tunnel !== 'string' || checkTunnelName(tunnel) || !TUNNEL_ROLES.includes(role as TunnelRole)) return undefined;
    return { id: jti, tunnel, role: role as TunnelRole, ...(typeof exp === 'number' ? { expiresAt: exp * 1000 } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * The invite code in what someone pasted: the code itself, or a link that carries it
 * (`vscode://tether-dev.tether/invite?code=…`, any URL with a `code` query). A coded
 * INVITE_INVALID when there is none: the sentence says what was expected.
 */
export function inviteCodeFrom(text: string): string {
  const given = text.trim();
  let code = given;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw createError(ErrorCode.INVITE_INVALID, 'that link is not a valid URL: paste the invite code or the whole invite link');
    }
    const found = url.searchParams.get('code');
    if (!found) throw createError(ErrorCode.INVITE_INVALID, 'that link carries no invite code (no code=… in it): paste the invite code or the whole invite link');
    code = found.trim();
  }
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(code)) {
    throw createError(ErrorCode.INVITE_INVALID, 'that is not an invite code: an invite code is three parts joined by dots (check that it was copied whole)');
  }
  return code;
}
