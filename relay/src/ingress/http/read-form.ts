import type { Readable } from 'node:stream';
import { createError, ErrorCode } from '@tether/shared';

/** Reads a small application/x-www-form-urlencoded body (at most `limit` bytes). */
export async function readForm(body: Readable, limit: number): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw createError(ErrorCode.INVALID_ARGUMENT, `the form is over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
