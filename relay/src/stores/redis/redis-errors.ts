import { createError, ErrorCode, TetherError } from '@tether/shared';

/** Errors Redis answers with while it cannot serve (a cluster reconfiguring, a replica syncing). */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN|READONLY|BUSY)\b/;

/**
 * Runs one Redis operation and maps its failure the way every Redis-backed port must, so the
 * relay answers a Redis outage the same everywhere: an error already coded passes through, a
 * command Redis refused is INTERNAL, and anything else (connection down, command timed out,
 * cluster reconfiguring) is STORE_UNAVAILABLE, which callers treat as retryable. Shared by the
 * store and the tunnel registry so the mapping and its sentence exist once.
 */
export async function callRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof TetherError) throw err;
    const message = (err as Error).message ?? String(err);
    const isReply = (err as Error).name === 'ReplyError';
    if (isReply && !UNAVAILABLE_REPLY.test(message)) throw createError(ErrorCode.INTERNAL, `Redis refused a store command: ${message}`);
    throw createError(ErrorCode.STORE_UNAVAILABLE, `the relay's Redis store is unavailable: ${message}`);
  }
}
