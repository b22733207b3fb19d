import { readFileSync } from 'node:fs';
import { createError, ErrorCode } from '@tether/shared';

/**
 * `--rate-limits`: `off` for none, or a JSON file holding any subset of the rules
 * (docs/rate-limits.md), checked when the relay builds them. A file that cannot be read or is
 * not JSON is INVALID_CONFIG saying which and why.
 */
export function loadRateLimits(spec: string | undefined): unknown {
  if (spec === undefined) return undefined;
  if (spec === 'off') return false;
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw createError(ErrorCode.INVALID_CONFIG, `cannot read the rate limits file ${spec} (${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message}); give a JSON file of rules (docs/rate-limits.md) or off`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw createError(ErrorCode.INVALID_CONFIG, `the rate limits file ${spec} is not JSON (${(err as Error).message}); see docs/rate-limits.md for its shape`);
  }
}
