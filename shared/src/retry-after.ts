/**
 * When to try again, carried in a message. OPEN_ERR frames have a code and a message only, and
 * older peers must keep reading them, so a RATE_LIMITED refusal says when in its message, in a
 * form people read and this module parses back: `… (retry in 2.5 s)`.
 */

const SUFFIX = / \(retry in (\d{1,7}(?:\.\d)?) s\)$/;

/** `message` with ` (retry in S s)` appended: S in seconds, rounded up to a tenth. */
export function withRetryAfter(message: string, retryAfterMs: number): string {
  const tenths = Math.max(1, Math.ceil(Math.max(0, retryAfterMs) / 100));
  const seconds = tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1);
  return `${message.replace(SUFFIX, '')} (retry in ${seconds} s)`;
}

/** The milliseconds a message made by withRetryAfter says to wait; undefined when it says none. */
export function retryAfterOf(message: string): number | undefined {
  const match = SUFFIX.exec(message);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/**
 * An HTTP Retry-After header in milliseconds: delta-seconds, or an HTTP date (RFC 9110 §10.2.3)
 * measured from `now`. Undefined when absent or not one of those.
 */
export function retryAfterHeaderMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) || !/[a-z]/i.test(trimmed) ? undefined : Math.max(0, date - now);
}
