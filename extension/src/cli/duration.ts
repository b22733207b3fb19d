import { describeMs, readDuration } from '../core/duration-text.js';
import { UsageError } from './output.js';

/**
 * A duration as people type it on a command line, in milliseconds: `30s`, `15m`, `2h`, `7d`, or
 * several of those run together largest first (`1h30m`, `1d12h`). Anything else (a bare number,
 * `ms`, a unit twice, zero) is a usage error naming `flag`: milliseconds are what the API takes,
 * but a bare `--expires 30` would be ambiguous.
 */
export function parseDuration(text: string, flag: string): number {
  const ms = readDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got ${JSON.stringify(text)}`);
  return ms;
}

/** 5_400_000 → `1h30m`: the form parseDuration reads, for listings and messages. */
export const formatDuration = describeMs;

/**
 * A whole number flag in [min, max] (`--uses`, `--approvals`), or a usage error: commander keeps
 * flag values as strings and `Number()` would take `1e3` or ` 5`.
 */
export function parseCount(text: string, flag: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}
