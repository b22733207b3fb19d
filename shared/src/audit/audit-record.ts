import { createHash } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';

/**
 * One record of the relay's audit log as stored and exported: plain JSON whose canonical
 * encoding (RFC 8785) is what the hash chain and the Merkle tree are computed over, so anyone
 * can verify a log without the key that encrypts the details (docs/audit.md).
 */
export interface AuditRecord {
  /** Format version. */
  v: 1;
  /** Position in the log, from 0, with no gaps. */
  index: number;
  /** ISO 8601 time the relay recorded it. */
  time: string;
  /** Stable event code (docs/audit-events.md). */
  event: string;
  /** Who acted: `user:NAME#ID`, `admin`, `node:ID`, or `anonymous`. */
  actor: string;
  /** What it was done to: `tunnel:NAME`, `user:NAME`, `relay`. */
  target: string;
  outcome: AuditOutcome;
  /** The relay node that wrote it. */
  node: string;
  /** What else is known (the action, rule, reason, counts), encrypted at rest. */
  details: SealedDetails;
  /** `hash` of the record before, or GENESIS_HASH for index 0. */
  prev: string;
  /** Hex SHA-256 of the canonical encoding of every other field. */
  hash: string;
}

export type AuditOutcome = 'success' | 'failure';

/** AES-256-GCM ciphertext of the canonical JSON of the details, under the key named by `kid`. */
export interface SealedDetails {
  alg: 'A256GCM';
  kid: string;
  /** base64url, 12 bytes. */
  iv: string;
  /** base64url ciphertext followed by nothing: the tag is separate. */
  ct: string;
  /** base64url, 16 bytes. */
  tag: string;
}

/** `prev` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

export type UnhashedRecord = Omit<AuditRecord, 'hash'>;

/** RFC 8785 canonical JSON of a value, as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/** The record's own hash: SHA-256 over the canonical encoding of every field but `hash`. */
export function recordHash(record: UnhashedRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return createHash('sha256').update(canonicalBytes(rest)).digest('hex');
}

/** The record with its hash filled in. */
export function sealRecord(record: UnhashedRecord): AuditRecord {
  return { ...record, hash: recordHash(record) };
}

/** The bytes stored and exported for a record: one line of a JSONL export, without the newline. */
export function encodeRecord(record: AuditRecord): string {
  return canonicalize(record);
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

/** Why a parsed value is not a well-formed record, or undefined when it is one. */
export function recordShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  const keys = ['v', 'index', 'time', 'event', 'actor', 'target', 'outcome', 'node', 'details', 'prev', 'hash'];
  const extra = Object.keys(r).filter((k) => !keys.includes(k));
  if (extra.length > 0) return `unknown field ${extra[0]}`;
  if (r.v !== 1) return 'unknown format version';
  if (!Number.isSafeInteger(r.index) || (r.index as number) < 0) return 'index is not a whole number';
  for (const k of ['time', 'event', 'actor', 'target', 'node'] as const) if (typeof r[k] !== 'string') return `${k} is not text`;
  if (Number.isNaN(Date.parse(r.time as string))) return 'time is not a date';
  if (r.outcome !== 'success' && r.outcome !== 'failure') return 'outcome is neither success nor failure';
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return 'prev is not a SHA-256 hash';
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'hash is not a SHA-256 hash';
  const d = r.details as Record<string, unknown> | null;
  if (typeof d !== 'object' || d === null) return 'details are missing';
  if (d.alg !== 'A256GCM' || typeof d.kid !== 'string') return 'details are not sealed with A256GCM';
  for (const k of ['iv', 'ct', 'tag'] as const) if (typeof d[k] !== 'string' || !B64URL.test(d[k])) return `details.${k} is not base64url`;
  if (Object.keys(d).length !== 5) return 'details have unknown fields';
  return undefined;
}
