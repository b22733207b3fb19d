import { createHmac, timingSafeEqual } from 'node:crypto';
import { createError, ErrorCode } from './errors.js';
import { pooledRandomBytes } from './random-pool.js';

/**
 * The hello of a resumable stream, carried in its OPEN metadata (open-metadata.ts;
 * docs/protocol.md, "Resumable streams"). A stream's identity and secret come from the opener,
 * not from any relay, so the stream can continue through another relay:
 *
 *   NEW     'T' 0x01  id[16] secret[32]
 *   RESUME  'T' 0x02  id[16] attempt:u32 offset:u64 proof[32]
 *
 * `offset` is what the opener has received (plus one once it received the end). `proof` is
 * HMAC-SHA256(secret, "tether-resume-v1" || id || attempt || offset): a relay that carries a
 * resume learns neither the secret nor anything it could replay (attempts only go up).
 */
export const STREAM_ID_BYTES = 16;
export const RESUME_SECRET_BYTES = 32;
const MAGIC = 0x54; // 'T'
const KIND_NEW = 1;
const KIND_RESUME = 2;
const PROOF_BYTES = 32;
const NEW_LENGTH = 2 + STREAM_ID_BYTES + RESUME_SECRET_BYTES;
const RESUME_LENGTH = 2 + STREAM_ID_BYTES + 4 + 8 + PROOF_BYTES;
const PROOF_LABEL = Buffer.from('tether-resume-v1');

export type StreamHello =
  | { kind: 'new'; id: Buffer; secret: Buffer }
  | { kind: 'resume'; id: Buffer; attempt: number; offset: number; proof: Buffer };

/** A resumable stream's identity and resume secret: STREAM_ID_BYTES and RESUME_SECRET_BYTES long. */
export interface StreamIdentity {
  id: Buffer;
  secret: Buffer;
}

/** A fresh, random identity and secret for a new resumable stream (the default identity source). */
export function newStreamIdentity(): StreamIdentity {
  return { id: pooledRandomBytes(STREAM_ID_BYTES), secret: pooledRandomBytes(RESUME_SECRET_BYTES) };
}

/** Checks an identity from an injected source; a coded INVALID_ARGUMENT when a length is wrong. */
export function checkStreamIdentity(identity: StreamIdentity): StreamIdentity {
  const { id, secret } = identity;
  if (!Buffer.isBuffer(id) || id.length !== STREAM_ID_BYTES) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `a stream id is ${STREAM_ID_BYTES} bytes`);
  }
  if (!Buffer.isBuffer(secret) || secret.length !== RESUME_SECRET_BYTES) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `a resume secret is ${RESUME_SECRET_BYTES} bytes`);
  }
  return identity;
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / 2 ** 32), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

export function resumeProof(secret: Buffer, id: Buffer, attempt: number, offset: number): Buffer {
  const fields = Buffer.alloc(12);
  fields.writeUInt32BE(attempt, 0);
  writeU64(fields, offset, 4);
  return createHmac('sha256', secret).update(PROOF_LABEL).update(id).update(fields).digest();
}

/** True when `proof` is the HMAC of the resume fields under `secret` (constant time). */
export function verifyResumeProof(secret: Buffer, hello: Extract<StreamHello, { kind: 'resume' }>): boolean {
  return timingSafeEqual(resumeProof(secret, hello.id, hello.attempt, hello.offset), hello.proof);
}

export function encodeNewHello(id: Buffer, secret: Buffer): Buffer {
  return encodeHello({ kind: 'new', id, secret });
}

/** A RESUME hello for attempt `attempt` asking to continue from `offset`, proved with `secret`. */
export function resumeHello(id: Buffer, secret: Buffer, attempt: number, offset: number): Extract<StreamHello, { kind: 'resume' }> {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 0xffffffff) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `resume attempt ${attempt} out of range`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0) throw createError(ErrorCode.INVALID_ARGUMENT, `resume offset ${offset} out of range`);
  return { kind: 'resume', id, attempt, offset, proof: resumeProof(secret, id, attempt, offset) };
}

export function encodeResumeHello(id: Buffer, secret: Buffer, attempt: number, offset: number): Buffer {
  return encodeHello(resumeHello(id, secret, attempt, offset));
}

/** The bytes of a hello (the value of OPEN metadata's hello entry; see open-metadata.ts). */
export function encodeHello(hello: StreamHello): Buffer {
  if (hello.id.length !== STREAM_ID_BYTES) throw createError(ErrorCode.INVALID_ARGUMENT, `a stream id is ${STREAM_ID_BYTES} bytes`);
  if (hello.kind === 'new') {
    if (hello.secret.length !== RESUME_SECRET_BYTES) throw createError(ErrorCode.INVALID_ARGUMENT, `a resume secret is ${RESUME_SECRET_BYTES} bytes`);
    return Buffer.concat([Buffer.from([MAGIC, KIND_NEW]), hello.id, hello.secret]);
  }
  if (hello.proof.length !== PROOF_BYTES) throw createError(ErrorCode.INVALID_ARGUMENT, `a resume proof is ${PROOF_BYTES} bytes`);
  const buf = Buffer.alloc(RESUME_LENGTH);
  buf[0] = MAGIC;
  buf[1] = KIND_RESUME;
  hello.id.copy(buf, 2);
  buf.writeUInt32BE(hello.attempt, 2 + STREAM_ID_BYTES);
  writeU64(buf, hello.offset, 2 + STREAM_ID_BYTES + 4);
  hello.proof.copy(buf, 2 + STREAM_ID_BYTES + 12);
  return buf;
}

/**
 * Reads a hello: undefined when the bytes are not a resumable-stream hello; a coded
 * PROTOCOL_ERROR when they claim to be one and are malformed. (OPEN metadata carries a hello in
 * an entry of its container: read it with decodeOpenMetadata.)
 */
export function decodeHello(metadata: Buffer): StreamHello | undefined {
  if (metadata.length < 2 || metadata[0] !== MAGIC || (metadata[1] !== KIND_NEW && metadata[1] !== KIND_RESUME)) return undefined;
  const bad = (why: string) => createError(ErrorCode.PROTOCOL_ERROR, `malformed resumable-stream hello: ${why}`);
  if (metadata[1] === KIND_NEW) {
    if (metadata.length !== NEW_LENGTH) throw bad(`NEW is ${metadata.length} bytes, expected ${NEW_LENGTH}`);
    return { kind: 'new', id: Buffer.from(metadata.subarray(2, 2 + STREAM_ID_BYTES)), secret: Buffer.from(metadata.subarray(2 + STREAM_ID_BYTES)) };
  }
  if (metadata.length !== RESUME_LENGTH) throw bad(`RESUME is ${metadata.length} bytes, expected ${RESUME_LENGTH}`);
  const at = 2 + STREAM_ID_BYTES;
  const high = metadata.readUInt32BE(at + 4);
  if (high > 0x1fffff) throw bad('offset above 2^53 - 1');
  const attempt = metadata.readUInt32BE(at);
  if (attempt === 0) throw bad('attempt 0');
  return {
    kind: 'resume',
    id: Buffer.from(metadata.subarray(2, at)),
    attempt,
    offset: high * 2 ** 32 + metadata.readUInt32BE(at + 8),
    proof: Buffer.from(metadata.subarray(at + 12)),
  };
}
