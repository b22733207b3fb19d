import { UsageError } from './output.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/**
 * A duration as people type it on a command line, in milliseconds: `30s`, `15m`, `2h`, `7d`, or
 * several of those run together largest first (`1h30m`, `1d12h`). Anything else (a bare number,
 * `ms`, a unit twice, zero) is a usage error naming `flag`: milliseconds are what the API takes,
 * but a bare `--expires 30` would be ambiguous.
 */
export function parseDuration(text: string, flag: string): number {
  const fail = (): never => {
    throw new UsageError(`${flag} must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got ${JSON.stringify(text)}`);
  };
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d{1,9}[dhms])+$/.test(trimmed)) return fail();
  const order = 'dhms';
  let last = -1;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([dhms])/g)) {
    const at = order.indexOf(unit);
    // 30m1h or 1h1h: refused rather than guessed at.
    if (at <= last) return fail();
    last = at;
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  if (total <= 0 || !Number.isSafeInteger(total)) return fail();
  return total;
}

/** 5_400_000 → `1h30m`: the form parseDuration reads, for listings and messages. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/**
 * A whole number flag in [min, max] (`--uses`, `--approvals`), or a usage error: commander keeps
 * flag values as strings and `Number()` would take `1e3` or ` 5`.
 */
export function parseCount(text: string, flag: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}
