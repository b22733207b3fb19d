import { isTetherError } from '@tether/shared';

/** Exit codes: 1 for a failure the user can act on, 2 for a usage error. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One clear line on stderr: the message and, for coded errors, the code. */
export function formatError(err: unknown): string {
  if (isTetherError(err)) return `tether: ${err.message} [${err.code}]`;
  if (err instanceof UsageError) return `tether: ${err.message}\nRun 'tether help' for usage.`;
  return `tether: ${err instanceof Error ? err.message : String(err)}`;
}

export function info(line: string): void {
  process.stderr.write(`${line}\n`);
}
