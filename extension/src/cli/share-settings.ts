import { createHash, randomBytes } from 'node:crypto';
import { checkTunnelSettings, parseAllowList, parseByteSize, type HttpAccess, type TunnelSettings } from '@tether/shared';
import { UsageError } from './output.js';

/** The service options of `tether share` (docs/http.md, docs/protocols.md, docs/udp.md). */
export interface ShareServiceValues {
  http?: string | boolean;
  access?: string;
  'access-token'?: string;
  cache?: string;
  compress?: boolean;
  allow?: string;
  udp?: boolean;
}

export interface ShareSettings {
  settings: TunnelSettings | undefined;
  /** For --access token: the token to give people (made here when none was given). */
  accessToken?: string;
  /** True when the access token was made here (printed once, then never again). */
  madeToken?: boolean;
}

/** Reads a usage error out of a coded one, so the CLI prints it with the command's usage. */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The tunnel's settings from share's flags, checked as a whole; undefined for a plain TCP tunnel. */
export function shareSettings(values: ShareServiceValues, env: NodeJS.ProcessEnv = process.env): ShareSettings {
  const s: TunnelSettings = {};
  if (values.http !== undefined && values.http !== false) {
    const origin = values.http === true ? 'http1' : values.http;
    if (origin !== 'http1' && origin !== 'h2c') throw new UsageError(`--http takes http1 or h2c (how the relay speaks to the service), not ${JSON.stringify(origin)}`);
    s.http = origin;
  }
  const explicitAccess = values.access !== undefined && values.access !== 'private';
  if (values.access !== undefined && values.http !== undefined) s.access = values.access as HttpAccess;
  else if (explicitAccess) throw new UsageError('--access applies to HTTP tunnels: add --http');
  if (values.cache !== undefined) s.cacheBytes = usage(() => parseByteSize(values.cache!, '--cache'));
  if (s.cacheBytes === 0) delete s.cacheBytes;
  if (values.compress) s.compress = true;
  if (values.allow !== undefined) s.allow = usage(() => parseAllowList(values.allow!));
  if (values.udp) s.udp = true;
  let accessToken = values['access-token'] ?? env.TETHER_ACCESS_TOKEN;
  let madeToken = false;
  if (s.access === 'token') {
    if (!accessToken) {
      accessToken = randomBytes(24).toString('base64url');
      madeToken = true;
    }
    if (accessToken.length < 16) throw new UsageError('--access-token must be at least 16 characters: anyone who guesses it reaches the service');
    s.accessTokenSha256 = createHash('sha256').update(accessToken).digest('hex');
  } else if (values['access-token'] !== undefined) {
    throw new UsageError('--access-token applies with --access token');
  }
  const err = checkTunnelSettings(s);
  if (err) throw new UsageError(err.message.replace(/\baccess, cache and compress\b/, '--access, --cache and --compress').replace(/share with --http/, 'add --http'));
  if (Object.keys(s).length === 0) return { settings: undefined };
  return s.access === 'token' ? { settings: s, accessToken, madeToken } : { settings: s };
}
