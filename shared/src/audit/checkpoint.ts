import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes } from './audit-record.js';

/**
 * A signed statement of the audit log's Merkle tree at one size: anyone holding the relay's
 * public key can check that a log has these first `size` records and no others.
 */
export interface Checkpoint {
  v: 1;
  /** The log's identity (one per deployment), so a checkpoint of one log never vouches for another. */
  log: string;
  /** Number of records the tree covers. */
  size: number;
  /** Hex RFC 9162 Merkle tree hash of records 0..size-1. */
  root: string;
  /** ISO 8601 time of signing. */
  time: string;
  /** Id of the Ed25519 key that signed (keyId of its public key). */
  kid: string;
  /**
   * Only in a prune checkpoint (signed just before records 0..size-1 were pruned): the hash of
   * record size-1 and the Merkle frontier of the first `size` leaves (hex, largest subtree
   * first), so the records that remain verify on their own as a continuation of the same chain
   * and tree.
   */
  prev?: string;
  frontier?: string[];
  /** base64url Ed25519 signature over the canonical JSON of the fields above. */
  sig: string;
}

export type UnsignedCheckpoint = Omit<Checkpoint, 'sig'>;

/** The bytes a checkpoint's signature covers. */
export function checkpointSigningBytes(c: UnsignedCheckpoint): Buffer {
  const { v, log, size, root, time, kid, prev, frontier } = c;
  return canonicalBytes({ v, log, size, root, time, kid, ...(prev !== undefined ? { prev } : {}), ...(frontier !== undefined ? { frontier } : {}) });
}

/** A public key's id: the first 16 hex digits of SHA-256 over its SubjectPublicKeyInfo (DER). */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function signCheckpoint(c: UnsignedCheckpoint, privateKey: KeyObject): Checkpoint {
  return { ...c, sig: sign(null, checkpointSigningBytes(c), privateKey).toString('base64url') };
}

/** Public keys by id, from PEM text holding one or more `PUBLIC KEY` blocks. */
export function parsePublicKeys(pem: string): Map<string, KeyObject> {
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  const keys = new Map<string, KeyObject>();
  for (const block of blocks) {
    const key = createPublicKey(block);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('an audit key must be an Ed25519 public key');
    keys.set(keyId(key), key);
  }
  return keys;
}

/** Why a checkpoint's signature does not hold, or undefined when it does. */
export function checkpointSignatureProblem(c: Checkpoint, keys: ReadonlyMap<string, KeyObject>): string | undefined {
  const key = keys.get(c.kid);
  if (!key) return `signed by an unknown key ${c.kid}`;
  let ok: boolean;
  try {
    ok = verify(null, checkpointSigningBytes(c), key, Buffer.from(c.sig, 'base64url'));
  } catch {
    ok = false;
  }
  return ok ? undefined : `bad signature (key ${c.kid})`;
}

/** Why a parsed value is not a well-formed checkpoint, or undefined when it is one. */
export function checkpointShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const c = value as Record<string, unknown>;
  if (c.v !== 1) return 'unknown checkpoint version';
  if (!Number.isSafeInteger(c.size) || (c.size as number) < 0) return 'size is not a whole number';
  if (typeof c.root !== 'string' || !/^[0-9a-f]{64}$/.test(c.root)) return 'root is not a SHA-256 hash';
  for (const k of ['log', 'time', 'kid', 'sig'] as const) if (typeof c[k] !== 'string') return `${k} is not text`;
  if (c.prev !== undefined && (typeof c.prev !== 'string' || !/^[0-9a-f]{64}$/.test(c.prev))) return 'prev is not a SHA-256 hash';
  if (c.frontier !== undefined && (!Array.isArray(c.frontier) || !c.frontier.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)))) return 'frontier is not a list of SHA-256 hashes';
  if ((c.prev === undefined) !== (c.frontier === undefined)) return 'a prune checkpoint needs both prev and frontier';
  return undefined;
}
