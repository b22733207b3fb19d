import type { HeaderFields } from './ingress-types.js';

/** One field's value as a single string: repeated lines joined with `, ` (RFC 9110 §5.3). */
export function fieldValue(headers: HeaderFields, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The comma-separated members of a list field, trimmed and lower-cased, empty members dropped. */
export function fieldTokens(headers: HeaderFields, name: string): string[] {
  const value = fieldValue(headers, name);
  if (value === undefined) return [];
  return value.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

/**
 * The fields with every value but `set-cookie` as one string: http-cache-semantics reads fields
 * as strings (an HTTP/2 peer may hand repeated fields as arrays, where HTTP/1.1 joins them).
 */
export function joinedFields(headers: HeaderFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'set-cookie') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Whether a Cache-Control field (request or response) holds the directive, by name. */
export function hasDirective(headers: HeaderFields, directive: string): boolean {
  return fieldTokens(headers, 'cache-control').some((t) => t === directive || t.startsWith(`${directive}=`));
}

/** `headers` with `name` added to its Vary field, unless Vary already names it or is `*`. */
export function withVary(headers: HeaderFields, name: string): HeaderFields {
  const present = fieldTokens(headers, 'vary');
  if (present.includes('*') || present.includes(name.toLowerCase())) return headers;
  const current = fieldValue(headers, 'vary');
  return { ...headers, vary: current ? `${current}, ${name}` : name };
}

/** Approximate bytes a field set holds in memory, for cache accounting. */
export function fieldBytes(headers: HeaderFields): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    bytes += name.length + 4 + (Array.isArray(value) ? value.reduce((n, v) => n + v.length + 2, 0) : value.length);
  }
  return bytes;
}
