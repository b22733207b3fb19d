/**
 * The one way this module refuses input: a TetherError with code INVALID_ARGUMENT whose message says
 * what was wrong and what to do about it (the CLI prints it as is).
 */
import { createError, ErrorCode, type TetherError } from '../errors.js';

export function invalidArgument(message: string): TetherError {
  return createError(ErrorCode.INVALID_ARGUMENT, `forecast: ${message}`);
}
