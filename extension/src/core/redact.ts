/**
 * Takes secrets out of anything about to leave the machine (the diagnostics bundle): values under
 * secret-like keys, query strings and user info of URLs, relay tokens (`tth_…`), JWTs (invite
 * codes, admin tokens) and bearer credentials in text, and any value the caller knows is secret.
 */
export const REDACTED = '[redacted]';

/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY = /(token|secret|passw(or)?d|passphrase|credential|cookie|api[-_]?key|private[-_]?key|authorization|invite[-_]?code|^auth$|^code$)/i;

/** Secret-looking text inside any string. */
const SECRET_TEXT: RegExp[] = [
  // Relay tokens.
  /tth_[A-Za-z0-9_-]+/g,
  // JWT / JWS compact form: invite codes, signed tokens.
  /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g,
  // "Bearer X", "token=X" style credentials in messages.
  /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi,
];

/** `scheme://user:pass@host/path?a=1#f` → `scheme://[redacted]@host/path?a=[redacted]#f`. */
function redactUrls(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]+@/gi, `$1${REDACTED}@`)
    .replace(/\?[^\s#"'<>]*/g, (query) => `?${query.slice(1).split('&').map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
    }).join('&')}`);
}

/** A string with every secret-looking part replaced. */
export function redactText(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  out = redactUrls(out);
  for (const pattern of SECRET_TEXT) out = out.replace(pattern, REDACTED);
  return out;
}

/**
 * A deep copy of `value` with secrets replaced: under secret-like keys the whole value (the
 * error `code` of a Tether error, TETHER_ERR_…, is kept: it is no secret), elsewhere the secret
 * parts of strings.
 */
export function redact(value: unknown, known: readonly string[] = []): unknown {
  if (typeof value === 'string') return redactText(value, known);
  if (Array.isArray(value)) return value.map((v) => redact(v, known));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const errorCode = key === 'code' && typeof v === 'string' && /^TETHER_ERR_[A-Z0-9_]+$/.test(v);
    out[key] = SECRET_KEY.test(key) && !errorCode && v !== undefined && v !== null && v !== '' ? REDACTED : redact(v, known);
  }
  return out;
}
