import type { HeaderFields } from './ingress-types.js';

/** Fields that belong to one connection, never forwarded (RFC 9110 §7.6.1), plus the old proxy ones. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'http2-settings']);

/** The relay's own credentials: they authorize the visit, and never reach the origin. */
export const ACCESS_TOKEN_HEADER = 'tether-access-token';
export const SESSION_COOKIE = 'tether_session';

/** Field names listed in Connection (they are hop-by-hop too). */
function connectionOptions(headers: HeaderFields): Set<string> {
  const listed = new Set<string>();
  const value = headers.connection;
  for (const v of Array.isArray(value) ? value : value ? [value] : []) {
    for (const name of v.split(',')) if (name.trim()) listed.add(name.trim().toLowerCase());
  }
  return listed;
}

/** The end-to-end fields of `headers`: no hop-by-hop field, no pseudo-header. */
export function endToEnd(headers: HeaderFields, keep: readonly string[] = []): HeaderFields {
  const listed = connectionOptions(headers);
  const out: HeaderFields = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if ((HOP_BY_HOP.has(name) || listed.has(name)) && !keep.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** `cookie` without the relay's own cookies; undefined when none is left. */
export function withoutRelayCookies(cookie: string | string[] | undefined): string | undefined {
  const all = Array.isArray(cookie) ? cookie.join('; ') : cookie;
  if (!all) return undefined;
  const kept = all.split(';').map((c) => c.trim()).filter((c) => c && !c.startsWith(`${SESSION_COOKIE}=`));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** How the client reached the relay, for X-Forwarded-* and Forwarded. */
export interface ClientFacts {
  /** The client's address as the relay saw it. */
  address: string;
  proto: 'http' | 'https';
  /** The Host (or :authority) the client asked for. */
  host: string;
}

/** A Forwarded node: IPv6 addresses are quoted and bracketed (RFC 7239 §6). */
function forwardedNode(address: string): string {
  const bare = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return bare.includes(':') ? `"[${bare}]"` : bare;
}

/**
 * The fields the origin is sent: the client's end-to-end fields without the relay's credentials
 * (`stripAuthorization` when the Authorization field was the relay's token), and where the
 * request came from. The relay is the edge: what a client claims in X-Forwarded-* or Forwarded is
 * replaced, not trusted.
 */
export function originRequestHeaders(headers: HeaderFields, client: ClientFacts, options: { stripAuthorization: boolean; keepTe?: boolean }): HeaderFields {
  const out = endToEnd(headers, options.keepTe && String(headers.te ?? '').trim().toLowerCase() === 'trailers' ? ['te'] : []);
  if (options.stripAuthorization) delete out.authorization;
  delete out[ACCESS_TOKEN_HEADER];
  const cookie = withoutRelayCookies(out.cookie);
  if (cookie === undefined) delete out.cookie;
  else out.cookie = cookie;
  for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'forwarded']) delete out[name];
  const address = client.address.startsWith('::ffff:') && client.address.includes('.') ? client.address.slice(7) : client.address;
  out['x-forwarded-for'] = address;
  out['x-forwarded-proto'] = client.proto;
  out['x-forwarded-host'] = client.host;
  out.forwarded = `for=${forwardedNode(client.address)};proto=${client.proto};host="${client.host.replace(/["\\]/g, '')}"`;
  out.host = client.host;
  return out;
}

/** The fields the client is sent back: the origin's end-to-end ones. */
export function clientResponseHeaders(headers: HeaderFields): HeaderFields {
  return endToEnd(headers);
}
