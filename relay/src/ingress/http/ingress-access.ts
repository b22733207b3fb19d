import { createHash, timingSafeEqual } from 'node:crypto';
import { createError, ErrorCode, rateLimited, type TetherError, type TunnelSettings } from '@tether/shared';
import { visitorIdentity, type Identity } from '../../identity.js';
import type { IdentifyByHash } from '../../auth.js';
import { hashToken } from '../../tokens.js';
import { ACCESS_TOKEN_HEADER, SESSION_COOKIE } from './forward-headers.js';
import type { HeaderFields } from './ingress-types.js';
import { cookieValue, readSession, signSession } from './ingress-session.js';

/** The relay's failed sign-in lockout (rate-limits.ts), shared with its API: guessing tokens here counts there too. */
export interface SignInGuard {
  /** Refused (locked out) when this address failed too often; takes nothing. */
  allowed(address: string): Promise<{ allowed: boolean; retryAfterMs: number }>;
  failed(address: string): Promise<void>;
}

export interface IngressAccessOptions {
  identify: IdentifyByHash;
  /** Failed tokens per address, with a lockout; none: not counted. */
  guard?: SignInGuard;
  /** The relay's shared secret for session cookies (the same on every node). */
  secret: () => Promise<string>;
  now?: () => number;
  /** How long a sign-in lasts. */
  sessionTtlMs?: number;
}

export type AccessOutcome =
  | { allowed: true; identity: Identity; /** The Authorization field was the relay's token: not forwarded. */ usedAuthorization: boolean }
  | { allowed: false; error: TetherError };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const HEX_256 = /^[0-9a-f]{64}$/;

/** Two SHA-256 hex digests are equal (in constant time); anything else is not a match. */
function sameHex(a: string, b: string): boolean {
  return HEX_256.test(a) && HEX_256.test(b) && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

const bearerOf = (headers: HeaderFields): string | undefined => {
  const value = headers.authorization;
  return (typeof value === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(value) : null)?.[1];
};

/** Identities by token hash, for a few seconds: a revoked token stops working within them. */
const IDENTITY_CACHE_MS = 5000;

/**
 * Who a request to a tunnel's URL acts as (docs/http.md, "Access"). Private tunnels: a user's
 * token (Authorization: Bearer) or the session cookie of a sign-in; whether that user may use
 * the tunnel is then the router's decision, as for any stream. Token tunnels: the tunnel's
 * access token (the Tether-Access-Token field, or a sign-in). Public tunnels: anyone.
 */
export class IngressAccess {
  private readonly now: () => number;
  readonly sessionTtlMs: number;
  private readonly identities = new Map<string, { identity: Identity | undefined; until: number }>();

  constructor(private readonly options: IngressAccessOptions) {
    this.now = options.now ?? Date.now;
    this.sessionTtlMs = options.sessionTtlMs ?? 12 * 3600_000;
  }

  async decide(tunnel: string, settings: TunnelSettings, headers: HeaderFields, address = 'unknown'): Promise<AccessOutcome> {
    const access = settings.access ?? 'private';
    if (access === 'public') return { allowed: true, identity: visitorIdentity(tunnel, 'public'), usedAuthorization: false };
    const locked = await this.lockedOut(address);
    if (locked) return { allowed: false, error: locked };
    const outcome = await this.decideWithCredentials(tunnel, access, settings, headers);
    // A credential shown and refused is a failed sign-in, counted against the address.
    if (!outcome.allowed && 'presented' in outcome && outcome.presented) await this.options.guard?.failed(address);
    return outcome.allowed ? outcome : { allowed: false, error: outcome.error };
  }

  private async decideWithCredentials(tunnel: string, access: 'private' | 'token', settings: TunnelSettings, headers: HeaderFields): Promise<AccessOutcome | { allowed: false; error: TetherError; presented: boolean }> {
    const session = cookieValue(headers.cookie, SESSION_COOKIE);
    const claims = session ? await readSession(await this.options.secret(), tunnel, session, this.now()) : undefined;
    if (access === 'token') {
      const expected = settings.accessTokenSha256 ?? '';
      const shown = headers[ACCESS_TOKEN_HEADER];
      if (typeof shown === 'string' && sameHex(sha256(shown), expected)) return { allowed: true, identity: visitorIdentity(tunnel, 'token'), usedAuthorization: false };
      if (claims?.kind === 'token' && sameHex(claims.accessHash, expected)) return { allowed: true, identity: visitorIdentity(tunnel, 'token'), usedAuthorization: false };
      return { allowed: false, presented: shown !== undefined, error: createError(ErrorCode.UNAUTHORIZED, shown === undefined ? `tunnel ${tunnel} needs its access token: send it in the ${ACCESS_TOKEN_HEADER} header, or sign in` : `that is not the access token of tunnel ${tunnel}; ask its owner for the current one`) };
    }
    const bearer = bearerOf(headers);
    if (bearer !== undefined) {
      const identity = await this.identify(hashToken(bearer));
      if (identity) return { allowed: true, identity, usedAuthorization: true };
      // Not the relay's token: it may be the service's own. Without a session, the visit needs one.
    }
    if (claims?.kind === 'user') {
      const identity = await this.identify(claims.tokenHash);
      if (identity) return { allowed: true, identity, usedAuthorization: false };
    }
    return { allowed: false, presented: bearer !== undefined && claims === undefined, error: createError(ErrorCode.UNAUTHORIZED, `tunnel ${tunnel} is private: sign in with your Tether token, or send it as Authorization: Bearer <token>`) };
  }

  /**
   * A sign-in with `token` (a user's token on a private tunnel, the access token on a token
   * tunnel): the session cookie's value, or the coded refusal.
   */
  async signIn(tunnel: string, settings: TunnelSettings, token: string, address = 'unknown'): Promise<{ cookie: string } | { error: TetherError }> {
    const locked = await this.lockedOut(address);
    if (locked) return { error: locked };
    const outcome = await this.signInWith(tunnel, settings, token);
    if ('error' in outcome && outcome.error.code === ErrorCode.UNAUTHORIZED) await this.options.guard?.failed(address);
    return outcome;
  }

  /** A RATE_LIMITED error while `address` is locked out for failed tokens. */
  private async lockedOut(address: string): Promise<TetherError | undefined> {
    const decision = await this.options.guard?.allowed(address);
    if (!decision || decision.allowed) return undefined;
    return rateLimited(`too many wrong tokens from ${address}`, decision.retryAfterMs);
  }

  private async signInWith(tunnel: string, settings: TunnelSettings, token: string): Promise<{ cookie: string } | { error: TetherError }> {
    const access = settings.access ?? 'private';
    const secret = await this.options.secret();
    const now = this.now();
    if (access === 'token') {
      const hash = sha256(token);
      if (!sameHex(hash, settings.accessTokenSha256 ?? '')) return { error: createError(ErrorCode.UNAUTHORIZED, `that is not the access token of tunnel ${tunnel}`) };
      return { cookie: await signSession(secret, { kind: 'token', tunnel, accessHash: hash }, now, this.sessionTtlMs) };
    }
    if (access === 'public') return { error: createError(ErrorCode.INVALID_ARGUMENT, `tunnel ${tunnel} is public: there is nothing to sign in to`) };
    const tokenHash = hashToken(token);
    if (!(await this.identify(tokenHash))) return { error: createError(ErrorCode.UNAUTHORIZED, 'the relay does not accept this token (mistyped, replaced, or its user deleted)') };
    return { cookie: await signSession(secret, { kind: 'user', tunnel, tokenHash }, now, this.sessionTtlMs) };
  }

  private async identify(tokenHash: string): Promise<Identity | undefined> {
    const now = this.now();
    const hit = this.identities.get(tokenHash);
    if (hit && hit.until > now) return hit.identity;
    const identity = await this.options.identify(tokenHash);
    if (this.identities.size > 10_000) this.identities.clear();
    this.identities.set(tokenHash, { identity, until: now + IDENTITY_CACHE_MS });
    return identity;
  }
}
