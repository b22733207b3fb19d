import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { pooledRandomBytes } from '@tether/shared';
import { canonicalBytes, type SealedDetails } from '@tether/shared/audit';
import { activeDetailsKey, type AuditKeyring } from './audit-keys.js';

/** What a record's details hold before sealing: everything but the fields kept in clear. */
export type PlainDetails = Readonly<Record<string, unknown>>;

/**
 * Additional data bound to the ciphertext: the record's index, so sealed details copied into
 * another record do not open there.
 */
const aad = (index: number): Buffer => Buffer.from(`tether-audit/v1/${index}`, 'utf8');

/** Seals details for record `index` with the ring's active details key (AES-256-GCM). */
export function sealDetails(details: PlainDetails, index: number, ring: AuditKeyring): SealedDetails {
  const { kid, key } = activeDetailsKey(ring);
  const iv = pooledRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(index));
  const ct = Buffer.concat([cipher.update(canonicalBytes(details)), cipher.final()]);
  return { alg: 'A256GCM', kid, iv: iv.toString('base64url'), ct: ct.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
}

/** The details of record `index`; undefined when the ring lacks the key or they do not open. */
export function openDetails(sealed: SealedDetails, index: number, ring: AuditKeyring): PlainDetails | undefined {
  const entry = ring.details.find((k) => k.kid === sealed.kid);
  if (!entry) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(sealed.iv, 'base64url'));
    decipher.setAAD(aad(index));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as PlainDetails;
  } catch {
    return undefined;
  }
}

/** Detail fields whose values are secrets: never written, only their keyed HMAC. */
const SECRET_FIELD = /token|secret|password|code$|^code|invite_?code/i;

/** `hmac:` and 32 hex digits of HMAC-SHA256(salt, value): equal secrets stay comparable. */
export function fingerprint(value: string, salt: Buffer): string {
  return `hmac:${createHmac('sha256', salt).update(value, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The detail with every secret-named string field replaced by its fingerprint. */
export function redactSecrets<T extends Readonly<Record<string, string | number | boolean>>>(detail: T, salt: Buffer): T {
  let out: Record<string, string | number | boolean> | undefined;
  for (const [name, value] of Object.entries(detail)) {
    if (typeof value !== 'string' || !SECRET_FIELD.test(name) || value.startsWith('hmac:')) continue;
    out ??= { ...detail };
    out[name] = fingerprint(value, salt);
  }
  return (out ?? detail) as T;
}
