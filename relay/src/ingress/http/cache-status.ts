import { fieldValue } from './header-fields.js';
import type { HeaderFields } from './ingress-types.js';

/** What the cache did with a request, for the caller's metrics and logs. */
export type CacheOutcome = 'hit' | 'miss' | 'revalidated' | 'stale' | 'bypass';

/**
 * `headers` with this cache's member appended to Cache-Status (RFC 9211): the field lists the
 * caches from the origin's side to the client's, so an origin's (or its own cache's) member is
 * kept in front. `params` is the member's parameters: `hit; ttl=30`, `fwd=uri-miss; stored`.
 */
export function withCacheStatus(headers: HeaderFields, cacheName: string, params: string): HeaderFields {
  const current = fieldValue(headers, 'cache-status');
  const member = `${cacheName}; ${params}`;
  return { ...headers, 'cache-status': current ? `${current}, ${member}` : member };
}
