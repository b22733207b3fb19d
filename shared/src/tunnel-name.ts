import { createError, ErrorCode, type ErrorCodeString, type TetherError } from './errors.js';

/** Tunnel names are DNS labels: 1–63 of a-z, 0-9 and '-', not starting or ending with '-'. */
export const TUNNEL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The longest tunnel or user name (a DNS label's limit). */
export const NAME_MAX_LENGTH = 63;
export const TUNNEL_NAME_RULE =
  '1-63 characters of lowercase a-z, 0-9 and "-", starting and ending with a letter or digit';

/**
 * The sentence for a name over NAME_MAX_LENGTH, e.g. `user name is too long (300 characters; at
 * most 63 of a-z, 0-9 and '-')`: the client's check and the relay's schema both say it this way.
 */
export function nameTooLongMessage(what: string, length: number): string {
  return `${what} is too long (${length} characters; at most ${NAME_MAX_LENGTH} of a-z, 0-9 and '-')`;
}

function checkName(name: unknown, what: string, code: ErrorCodeString): TetherError | undefined {
  if (typeof name === 'string' && TUNNEL_NAME_PATTERN.test(name)) return undefined;
  if (typeof name === 'string' && name.length > NAME_MAX_LENGTH) return createError(code, nameTooLongMessage(what, name.length));
  // A name is quoted only up to NAME_MAX_LENGTH characters (longer ones are told their length):
  // it may be hostile.
  const shown = typeof name === 'string' ? JSON.stringify(name) : String(typeof name);
  return createError(code, `invalid ${what} ${shown}: use ${TUNNEL_NAME_RULE}`);
}

/** Returns an error describing why `name` is not a valid tunnel name, or undefined when it is. */
export function checkTunnelName(name: unknown): TetherError | undefined {
  return checkName(name, 'tunnel name', ErrorCode.INVALID_TUNNEL_NAME);
}

/** Throws INVALID_TUNNEL_NAME unless `name` is valid. */
export function assertTunnelName(name: unknown): asserts name is string {
  const err = checkTunnelName(name);
  if (err) throw err;
}

/** User names follow the same rule as tunnel names (they appear in logs and URLs). */
export function checkUserName(name: unknown): TetherError | undefined {
  return checkName(name, 'user name', ErrorCode.INVALID_ARGUMENT);
}
