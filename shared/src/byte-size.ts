import { createError, ErrorCode } from './errors.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/**
 * A size as people write it (`64MB`, `512k`, `1GiB`, `1048576`) in bytes; units are binary
 * (1 KB = 1024 bytes) as for memory. Throws INVALID_ARGUMENT naming `what`.
 */
export function parseByteSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `${what} "${text.slice(0, 40)}" is not a size: write a number of bytes, or one with KB, MB or GB (e.g. 64MB)`);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw createError(ErrorCode.INVALID_ARGUMENT, `${what} ${text.slice(0, 40)} is too large`);
  return bytes;
}
