/** Durations as people type and read them (`30s`, `15m`, `2h`, `7d`, `1h30m`): for the CLI's flags and the extension's inputs. */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/**
 * `1h30m` → 5_400_000; undefined for anything else (a bare number, `ms`, a unit twice or out of
 * order, zero): the caller says what it expected in its own words.
 */
export function readDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d{1,9}[dhms])+$/.test(trimmed)) return undefined;
  const order = 'dhms';
  let last = -1;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([dhms])/g)) {
    const at = order.indexOf(unit);
    // 30m1h or 1h1h: refused rather than guessed at.
    if (at <= last) return undefined;
    last = at;
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  if (total <= 0 || !Number.isSafeInteger(total)) return undefined;
  return total;
}

/** 5_400_000 → `1h30m`: the form readDuration reads, for listings and messages. */
export function describeMs(ms: number): string {
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
