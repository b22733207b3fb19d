import { isTetherError } from '@tether/shared';

/** Exit codes: 1 for a failure the user can act on, 2 for a usage error. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line that cannot run as given: exit 2, with a pointer to the command's help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  /**
   * @param command the command it is about (`'share'`, `'user create'`; `''` for tether
   *   itself); left undefined by the code that finds the error, filled in by the parser
   */
  constructor(message: string, public command?: string) {
    super(message);
  }
}

/** One clear line on stderr: the message and, for coded errors, the code; for usage errors, where help is. */
export function formatError(err: unknown): string {
  if (isTetherError(err)) return `tether: ${err.message} [${err.code}]`;
  if (err instanceof UsageError) return `tether: ${err.message}\nRun 'tether help${err.command ? ` ${err.command}` : ''}' for usage.`;
  return `tether: ${err instanceof Error ? err.message : String(err)}`;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

export function info(line: string): void {
  process.stderr.write(`${line}\n`);
}
