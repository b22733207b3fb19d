/**
 * Every error Tether reports carries a stable string code (asserted by tests and printed by the
 * CLI), a numeric wire code (sent in OPEN_ERR, RESET and GOAWAY frames) and, where it ends a
 * WebSocket, a close code. The codes live in error-codes.ts; how each is handled (retryable,
 * path failure, refusal...) is decided in one table, error-class.ts.
 */
import { isRetryable } from './error-class.js';
import { CloseCode, ErrorCode, wireCodeName, wireCodeOf, type ErrorCodeString } from './error-codes.js';
import { retryAfterOf, withRetryAfter } from './retry-after.js';

export * from './error-codes.js';

/** A Tether error: `code` is stable, `message` is for people. */
export class TetherError extends Error {
  readonly code: ErrorCodeString;
  /** WebSocket close code to end a connection with, when this error ends one. */
  readonly closeCode: number;
  override readonly name = 'TetherError';
  /** RATE_LIMITED: milliseconds before trying again is worth it (HTTP Retry-After, or the OPEN_ERR's message). */
  retryAfterMs?: number;

  constructor(code: ErrorCodeString, message: string, closeCode: number = CloseCode.PROTOCOL_ERROR) {
    super(message);
    this.code = code;
    this.closeCode = closeCode;
  }

  /** True when trying again later (with backoff) may succeed (see error-class.ts). */
  get retryable(): boolean {
    return isRetryable(this);
  }

  /** The u16 sent on the wire for this error (INTERNAL for codes with no wire form). */
  get wireCode(): number {
    return wireCodeOf(this.code);
  }
}

/** The one factory for Tether errors. */
export function createError(code: ErrorCodeString, message: string, closeCode?: number): TetherError {
  return new TetherError(code, message, closeCode);
}

/** Maps a wire code from OPEN_ERR/RESET/GOAWAY to an error; unknown codes become PROTOCOL_ERROR. */
export function errorFromWire(wire: number, message: string): TetherError {
  const name = wireCodeName(wire);
  if (name === undefined || name === 'NO_ERROR') {
    return createError(ErrorCode.PROTOCOL_ERROR, message || `unknown error code ${wire}`);
  }
  const err = createError(ErrorCode[name], message || name.toLowerCase().replace(/_/g, ' '));
  if (name === 'RATE_LIMITED') err.retryAfterMs = retryAfterOf(message);
  return err;
}

/** A RATE_LIMITED error whose message ends with when to try again, in the form retryAfterOf reads. */
export function rateLimited(message: string, retryAfterMs: number): TetherError {
  const err = createError(ErrorCode.RATE_LIMITED, withRetryAfter(message, retryAfterMs));
  err.retryAfterMs = Math.max(0, Math.ceil(retryAfterMs));
  return err;
}

/** True when `err` is a TetherError, optionally with the given code. */
export function isTetherError(err: unknown, code?: ErrorCodeString): err is TetherError {
  return err instanceof TetherError && (code === undefined || err.code === code);
}
