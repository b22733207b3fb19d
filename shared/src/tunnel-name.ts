import { createError, ErrorCode, type TetherError } from './errors.js';

/** Tunnel names are DNS labels: 1–63 of a-z, 0-9 and '-', not starting or ending with '-'. */
export const TUNNEL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const TUNNEL_NAME_RULE =
  '1-63 characters of lowercase a-z, 0-9 and "-", starting and ending with a letter or digit';

/** Returns an error describing why `name` is not a valid tunnel name, or undefined when it is. */
export function checkTunnelName(name: unknown): TetherError | undefined {
  if (typeof name === 'string' && TUNNEL_NAME_PATTERN.test(name)) return undefined;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : String(typeof name);
  return createError(ErrorCode.INVALID_TUNNEL_NAME, `invalid tunnel name ${shown}: use ${TUNNEL_NAME_RULE}`);
}

/** Throws INVALID_TUNNEL_NAME unless `name` is valid. */
export function assertTunnelName(name: unknown): asserts name is string {
  const err = checkTunnelName(name);
  if (err) throw err;
}

/** User names follow the same rule as tunnel names (they appear in logs and URLs). */
export function checkUserName(name: unknown): TetherError | undefined {
  if (typeof name === 'string' && TUNNEL_NAME_PATTERN.test(name)) return undefined;
  return createError(ErrorCode.INVALID_ARGUMENT, `invalid user name: use ${TUNNEL_NAME_RULE}`);
}
