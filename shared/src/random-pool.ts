import { randomBytes } from 'node:crypto';

/** CSPRNG output fetched at a time. */
const POOL_BYTES = 4096;
/** Larger requests go to randomBytes directly. */
const MAX_POOLED = 256;

let pool = Buffer.alloc(0);
let at = 0;

/**
 * `size` random bytes in a Buffer of their own, cut from CSPRNG output fetched 4 KiB at a time:
 * for what is drawn per stream or per record (a resumable stream's identity and secret, an audit
 * record's nonce), where a randomBytes call each (5-15 µs: a call into OpenSSL) is most of the
 * cost. Every byte is handed out once; a spent pool is replaced, never read again.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (size > MAX_POOLED) return randomBytes(size);
  if (at + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    at = 0;
  }
  const out = Buffer.alloc(size);
  pool.copy(out, 0, at, at + size);
  at += size;
  return out;
}
