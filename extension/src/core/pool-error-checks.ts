import type { TetherError } from '@tether/shared';
import { describeConnectError } from './connect-error.js';

// The pool's error classification, in one place until shared/ classifies errors in one table.

/** An attempt's error that retrying cannot fix (a bad token there): retried only at the slowest pace, and preferred when start() fails. */
export function retryCannotFix(err: TetherError): boolean {
  return !err.retryable;
}

/** What an attempt's error counts as when it is not a TetherError: the relay is unreachable. */
export function asAttemptError(err: unknown, url: string): TetherError {
  return describeConnectError(err, url);
}
