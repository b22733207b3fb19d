// How every section of bench/run.mjs writes its rows ({ metric, value, target, verdict }).

export const MiB = 1024 * 1024;

/** `n` with `digits` decimals, or 'n/a' when it was not measured. */
export const fmt = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** PASS / MISS, '' for an informational row, 'n/a' when the value could not be measured. */
export function verdict(ok, value = 0) {
  if (ok === undefined) return '';
  if (!Number.isFinite(value)) return 'n/a';
  return ok ? 'PASS' : 'MISS';
}

/**
 * One row. `check` is { target: 'text', ok: (value) => boolean } for a target, omitted for an
 * informational row; `value` is a number shown with `digits` decimals (or a string as is).
 */
export function row(metric, value, digits, check) {
  const shown = typeof value === 'number' ? fmt(value, digits) : String(value);
  if (!check) return { metric, value: shown, target: '', verdict: '' };
  return { metric, value: shown, target: check.target, verdict: verdict(check.ok(value), Number(value)) };
}

/** Targets used by more than one section. */
export const atLeast = (limit, digits = 2) => ({ target: `>= ${limit.toFixed(digits)}`, ok: (v) => v >= limit });
export const atMost = (limit, digits = 2) => ({ target: `<= ${limit.toFixed(digits)}`, ok: (v) => v <= limit });
export const below = (limit) => ({ target: `< ${limit}`, ok: (v) => v < limit });
