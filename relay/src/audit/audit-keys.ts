import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createError, ErrorCode } from '@tether/shared';
import { keyId } from '@tether/shared/audit';

/** An Ed25519 key that signs checkpoints. The newest is used; older ones only verify. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  createdAt: string;
}

/** An AES-256 key that seals record details. The newest seals; older ones open old records. */
export interface DetailsKey {
  kid: string;
  key: Buffer;
  createdAt: string;
}

/**
 * The audit log's keys: where an HSM plugs in later. The file keyring is the embedded default;
 * every node of a cluster is given the same one.
 */
export interface AuditKeyring {
  /** The log's identity, written into every checkpoint. */
  readonly logId: string;
  /** Keys the salted HMAC that replaces secrets (token values, invite codes) in records. */
  readonly salt: Buffer;
  readonly signing: readonly SigningKey[];
  readonly details: readonly DetailsKey[];
}

export const activeSigningKey = (ring: AuditKeyring): SigningKey => ring.signing[ring.signing.length - 1];
export const activeDetailsKey = (ring: AuditKeyring): DetailsKey => ring.details[ring.details.length - 1];

/** Every signing public key as PEM, oldest first: what `tether audit key` prints. */
export function publicKeysPem(ring: AuditKeyring): string {
  return ring.signing.map((k) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString()).join('');
}

interface KeyFile {
  v: 1;
  log: string;
  salt: string;
  signing: { kid: string; privateKey: string; createdAt: string }[];
  details: { kid: string; key: string; createdAt: string }[];
}

function newSigningKey(now: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid: keyId(publicKey), privateKey, publicKey, createdAt: now };
}

function newDetailsKey(now: string): DetailsKey {
  return { kid: randomBytes(8).toString('hex'), key: randomBytes(32), createdAt: now };
}

/** A fresh keyring (a new log id, salt, signing key and details key). */
export function generateAuditKeyring(now = new Date().toISOString()): AuditKeyring {
  return { logId: randomBytes(16).toString('hex'), salt: randomBytes(32), signing: [newSigningKey(now)], details: [newDetailsKey(now)] };
}

/** The ring with a new active signing key and details key; the old ones stay to verify and read. */
export function rotateAuditKeyring(ring: AuditKeyring, now = new Date().toISOString()): AuditKeyring {
  return { ...ring, signing: [...ring.signing, newSigningKey(now)], details: [...ring.details, newDetailsKey(now)] };
}

function toFile(ring: AuditKeyring): KeyFile {
  return {
    v: 1,
    log: ring.logId,
    salt: ring.salt.toString('base64'),
    signing: ring.signing.map((k) => ({ kid: k.kid, privateKey: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), createdAt: k.createdAt })),
    details: ring.details.map((k) => ({ kid: k.kid, key: k.key.toString('base64'), createdAt: k.createdAt })),
  };
}

function fromFile(file: string, text: string): AuditKeyring {
  const bad = (why: string) => createError(ErrorCode.INVALID_CONFIG, `audit keys file ${file} is unusable: ${why}; restore it from a backup (records sealed with a lost key cannot be read)`);
  let data: KeyFile;
  try {
    data = JSON.parse(text) as KeyFile;
  } catch {
    throw bad('not JSON');
  }
  if (data?.v !== 1 || typeof data.log !== 'string' || typeof data.salt !== 'string') throw bad('not an audit keys file');
  if (!Array.isArray(data.signing) || data.signing.length === 0 || !Array.isArray(data.details) || data.details.length === 0) throw bad('it holds no keys');
  try {
    const signing = data.signing.map((k) => {
      const privateKey = createPrivateKey(k.privateKey);
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('a signing key is not Ed25519');
      const publicKey = createPublicKey(privateKey);
      return { kid: keyId(publicKey), privateKey, publicKey, createdAt: String(k.createdAt) };
    });
    const details = data.details.map((k) => {
      const key = Buffer.from(k.key, 'base64');
      if (key.length !== 32 || typeof k.kid !== 'string') throw new Error('a details key is not 256 bits');
      return { kid: k.kid, key, createdAt: String(k.createdAt) };
    });
    return { logId: data.log, salt: Buffer.from(data.salt, 'base64'), signing, details };
  } catch (err) {
    throw bad((err as Error).message);
  }
}

/** Writes the ring (mode 0600) through a temporary file, so a crash never leaves half a file. */
export function saveAuditKeyring(file: string, ring: AuditKeyring): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(toFile(ring), null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function loadAuditKeyring(file: string): AuditKeyring {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw createError(ErrorCode.INVALID_CONFIG, `cannot read audit keys file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return fromFile(file, text);
}

/** The keyring in `file`, created there (mode 0600) when there is none yet. */
export function loadOrCreateAuditKeyring(file: string): { ring: AuditKeyring; created: boolean } {
  if (existsSync(file)) return { ring: loadAuditKeyring(file), created: false };
  const ring = generateAuditKeyring();
  saveAuditKeyring(file, ring);
  return { ring, created: true };
}
