import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Bucket keys, built in one place so their cardinality stays bounded and they never need
 * escaping: `SCOPE:DIMENSION:VALUE`. A value is kept as it is when it is short and plain
 * ([A-Za-z0-9._@/+=-], at most 64 characters); otherwise it becomes `h.` and 22 characters of
 * its SHA-256 (base64url), so a hostile name costs a fixed-size key. Braces never survive, so a
 * key cannot steer its Redis Cluster slot. Addresses are grouped: IPv4 by address, an IPv4-mapped
 * IPv6 address as its IPv4, and IPv6 by its /64 (one host gets a whole /64 to rotate through).
 */
export function keyPart(value: string): string {
  return /^[A-Za-z0-9._@/+=-]{1,64}$/.test(value) ? value : `h.${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}

/** The rate-limit identity of a source address (see keyPart). */
export function addressPart(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 4).join('.')}/64`;
  return keyPart(address);
}

/** The eight hextets of an IPv6 address, without leading zeros (`2001:db8::1` → 2001,db8,0,…,1). */
function expandIPv6(address: string): string[] {
  const plain = address.split('%')[0].toLowerCase();
  const [head, tail] = plain.includes('::') ? plain.split('::') : [plain, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // A trailing dotted IPv4 (64:ff9b::1.2.3.4) stands for two hextets.
  const width = (parts: string[]): number => parts.reduce((n, h) => n + (h.includes('.') ? 2 : 1), 0);
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0');
  return [...left, ...fill, ...right].map((h) => (h.includes('.') ? h : String(parseInt(h, 16).toString(16))));
}

/** A route as Fastify names it (`POST`, `/v1/tunnels/:name`), never the URL a client sent. */
export const routePart = (method: string, routeUrl: string): string => keyPart(`${method.toUpperCase()}+${routeUrl.replaceAll(':', '=')}`);

/** Every bucket the relay's rules use (rules.ts says which rule each one follows). */
export const RateKeys = {
  apiIdentity: (id: number): string => `api:id:${id}`,
  apiAddress: (address: string): string => `api:ip:${addressPart(address)}`,
  apiRoute: (method: string, routeUrl: string, id: number): string => `api:route:${routePart(method, routeUrl)}:id:${id}`,
  upgradeIdentity: (id: number): string => `upgrade:id:${id}`,
  upgradeAddress: (address: string): string => `upgrade:ip:${addressPart(address)}`,
  signInAddress: (address: string): string => `signin:ip:${addressPart(address)}`,
  /** A sign-in that names a user (the name it claimed, whether or not the user exists). */
  signInName: (name: string): string => `signin:name:${keyPart(name)}`,
  openIdentity: (id: number): string => `open:id:${id}`,
  openTunnel: (tunnel: string): string => `open:tunnel:${keyPart(tunnel)}`,
  openAddress: (address: string): string => `open:ip:${addressPart(address)}`,
  registration: (id: number): string => `register:id:${id}`,
  bytesTunnel: (tunnel: string): string => `bytes:tunnel:${keyPart(tunnel)}`,
  bytesUser: (id: number): string => `bytes:id:${id}`,
} as const;
