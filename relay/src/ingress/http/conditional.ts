import { fieldValue } from './header-fields.js';
import type { HeaderFields } from './ingress-types.js';

const ENTITY_TAG = /(?:W\/)?"[^"]*"/g;

/** The entity-tags of an If-None-Match (or If-Match) field; `['*']` for the wildcard. */
export function entityTags(value: string): string[] {
  return value.trim() === '*' ? ['*'] : (value.match(ENTITY_TAG) ?? []);
}

const opaque = (tag: string): string => tag.replace(/^W\//, '');

/**
 * Whether the client's own conditional GET is answered by a response with these fields
 * (RFC 9110 §13.1.2, §13.1.3, evaluated as in §13.2.2): If-None-Match by weak comparison, and
 * only without it, If-Modified-Since against Last-Modified. True means "send 304".
 */
export function notModified(request: HeaderFields, response: HeaderFields): boolean {
  const inm = fieldValue(request, 'if-none-match');
  if (inm !== undefined) {
    const etag = fieldValue(response, 'etag');
    if (etag === undefined) return false;
    return entityTags(inm).some((tag) => tag === '*' || opaque(tag) === opaque(etag.trim()));
  }
  const ims = fieldValue(request, 'if-modified-since');
  const lastModified = fieldValue(response, 'last-modified');
  if (ims === undefined || lastModified === undefined) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(lastModified);
  return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
}

/** The fields a 304 carries (RFC 9110 §15.4.5): validators and caching metadata, no content fields. */
const NOT_MODIFIED_FIELDS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'last-modified', 'vary', 'age', 'cache-status'];

export function notModifiedFields(response: HeaderFields): HeaderFields {
  const out: HeaderFields = {};
  for (const name of NOT_MODIFIED_FIELDS) if (response[name] !== undefined) out[name] = response[name];
  return out;
}
