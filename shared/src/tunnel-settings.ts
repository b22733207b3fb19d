/**
 * What a host asks of the relay for the tunnel it shares, beyond carrying streams: HTTP ingress
 * at a public URL with its access mode, caching and compression (docs/http.md), the protocols a
 * stream may speak (docs/protocols.md), UDP flows (docs/udp.md). Sent on the host's upgrade as
 * query parameters, kept with the tunnel's lease so every node of a cluster sees them.
 */
import { createError, ErrorCode, type TetherError } from './errors.js';

/** What the first bytes of a stream say it speaks (protocol-sniff.ts). */
export const SNIFFED_PROTOCOLS = ['ssh', 'tls', 'http1', 'h2', 'unknown'] as const;
export type SniffedProtocol = (typeof SNIFFED_PROTOCOLS)[number];

/** Names an allow-list may use: the sniffed kinds, and `http` for both http1 and h2. */
export const ALLOWABLE_PROTOCOLS = ['ssh', 'tls', 'http', 'http1', 'h2', 'unknown'] as const;
export type AllowableProtocol = (typeof ALLOWABLE_PROTOCOLS)[number];

/** How the relay speaks to the origin: HTTP/1.1, or h2 with prior knowledge (gRPC servers). */
export type HttpOrigin = 'http1' | 'h2c';
export type HttpAccess = 'private' | 'token' | 'public';

export interface TunnelSettings {
  /** Reachable at NAME.DOMAIN through the relay's HTTP ingress, the origin speaking this. */
  http?: HttpOrigin;
  /** Who may use the HTTP ingress (default private: identities with `connect`). */
  access?: HttpAccess;
  /** For access `token`: SHA-256 (hex) of the tunnel's access token; the token never leaves the host. */
  accessTokenSha256?: string;
  /** Only streams of these protocols are carried; the others are refused with PROTOCOL_NOT_ALLOWED. */
  allow?: AllowableProtocol[];
  /** Bytes of the relay's HTTP cache this tunnel may use on each node (0 or absent: no caching). */
  cacheBytes?: number;
  /** Compress responses the origin did not compress (br or gzip by Accept-Encoding). */
  compress?: boolean;
  /** A UDP service: datagrams in flows, not streams. */
  udp?: boolean;
}

/** The upgrade response field that tells the host of an HTTP tunnel its public URL. */
export const PUBLIC_URL_HEADER = 'tether-public-url';

/** The largest cache a tunnel may ask for (per node). */
export const MAX_CACHE_BYTES = 4 * 1024 ** 3;

const HTTP_ORIGINS: readonly string[] = ['http1', 'h2c'];
const ACCESS_MODES: readonly string[] = ['private', 'token', 'public'];

function invalid(message: string): TetherError {
  return createError(ErrorCode.INVALID_ARGUMENT, message);
}

/** Does `protocol` pass the allow-list (none: everything does)? */
export function protocolAllowed(allow: readonly AllowableProtocol[] | undefined, protocol: SniffedProtocol): boolean {
  if (!allow || allow.length === 0) return true;
  return allow.includes(protocol) || (allow.includes('http') && (protocol === 'http1' || protocol === 'h2'));
}

/** Parses `--allow ssh,http`: a list of protocol names; throws INVALID_ARGUMENT naming the bad one. */
export function parseAllowList(text: string): AllowableProtocol[] {
  const names = text.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) throw invalid('the allow-list is empty: name at least one protocol (ssh, tls, http, http1, h2, unknown)');
  for (const name of names) {
    if (!(ALLOWABLE_PROTOCOLS as readonly string[]).includes(name)) {
      throw invalid(`unknown protocol "${name.slice(0, 40)}" in the allow-list: use ${ALLOWABLE_PROTOCOLS.join(', ')}`);
    }
  }
  return [...new Set(names)] as AllowableProtocol[];
}

/** Checks settings as a whole; returns the error, or undefined when they hold together. */
export function checkTunnelSettings(s: TunnelSettings): TetherError | undefined {
  if (s.http !== undefined && !HTTP_ORIGINS.includes(s.http)) return invalid(`http must be http1 or h2c, not "${String(s.http).slice(0, 20)}"`);
  if (s.access !== undefined && !ACCESS_MODES.includes(s.access)) return invalid(`access must be private, token or public, not "${String(s.access).slice(0, 20)}"`);
  if ((s.access !== undefined || s.cacheBytes !== undefined || s.compress) && s.http === undefined) {
    return invalid('access, cache and compress apply to HTTP tunnels: share with --http');
  }
  if (s.access === 'token' && !/^[0-9a-f]{64}$/.test(s.accessTokenSha256 ?? '')) return invalid('access token needs the SHA-256 (64 hex digits) of the tunnel\'s access token');
  if (s.access !== 'token' && s.accessTokenSha256 !== undefined) return invalid('an access token applies only with access token');
  if (s.cacheBytes !== undefined && (!Number.isSafeInteger(s.cacheBytes) || s.cacheBytes < 0 || s.cacheBytes > MAX_CACHE_BYTES)) {
    return invalid(`cache must be a whole number of bytes from 0 to ${MAX_CACHE_BYTES}`);
  }
  if (s.udp && (s.http !== undefined || s.allow !== undefined)) return invalid('a UDP tunnel carries datagrams: --http and --allow apply to TCP tunnels');
  return undefined;
}

/** The query parameters that carry `settings` on the host's upgrade (none for a plain TCP tunnel). */
export function tunnelSettingsQuery(s: TunnelSettings): URLSearchParams {
  const q = new URLSearchParams();
  if (s.http) q.set('http', s.http);
  if (s.access) q.set('access', s.access);
  if (s.accessTokenSha256) q.set('access_token_sha256', s.accessTokenSha256);
  if (s.allow?.length) q.set('allow', s.allow.join(','));
  if (s.cacheBytes) q.set('cache', String(s.cacheBytes));
  if (s.compress) q.set('compress', '1');
  if (s.udp) q.set('udp', '1');
  return q;
}

/** The settings in a host's upgrade query (the inverse of tunnelSettingsQuery); throws INVALID_ARGUMENT. */
export function parseTunnelSettings(query: Readonly<Record<string, unknown>>): TunnelSettings {
  const text = (key: string): string | undefined => {
    const v = query[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > 200) throw invalid(`${key} must be one short value`);
    return v;
  };
  const flag = (key: string): boolean | undefined => {
    const v = text(key);
    if (v === undefined) return undefined;
    if (v !== '1' && v !== '0') throw invalid(`${key} must be 1 or 0`);
    return v === '1' ? true : undefined;
  };
  const s: TunnelSettings = {};
  const http = text('http');
  if (http !== undefined) s.http = http as HttpOrigin;
  const access = text('access');
  if (access !== undefined) s.access = access as HttpAccess;
  const hash = text('access_token_sha256');
  if (hash !== undefined) s.accessTokenSha256 = hash.toLowerCase();
  const allow = text('allow');
  if (allow !== undefined) s.allow = parseAllowList(allow);
  const cache = text('cache');
  if (cache !== undefined) {
    if (!/^\d{1,12}$/.test(cache)) throw invalid('cache must be a number of bytes');
    const bytes = Number(cache);
    if (bytes > 0) s.cacheBytes = bytes;
  }
  if (flag('compress')) s.compress = true;
  if (flag('udp')) s.udp = true;
  const err = checkTunnelSettings(s);
  if (err) throw err;
  return s;
}

/** The settings as one line for people (`http h2c, access token, allow ssh`), or '' for a plain tunnel. */
export function describeTunnelSettings(s: TunnelSettings | undefined): string {
  if (!s) return '';
  const parts: string[] = [];
  if (s.udp) parts.push('udp');
  if (s.http) parts.push(`http ${s.http}`, `access ${s.access ?? 'private'}`);
  if (s.allow) parts.push(`allow ${s.allow.join(',')}`);
  if (s.cacheBytes) parts.push(`cache ${s.cacheBytes} bytes`);
  if (s.compress) parts.push('compress');
  return parts.join(', ');
}
