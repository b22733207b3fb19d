import CachePolicy from 'http-cache-semantics';
import { bodyStream, emptyBody, PendingBytes, teeBody } from './body-tee.js';
import { CacheStore, ENTRY_OVERHEAD_BYTES, variantKey, type CacheEntry, type CacheStats } from './cache-store.js';
import { withCacheStatus, type CacheOutcome } from './cache-status.js';
import { notModified, notModifiedFields } from './conditional.js';
import { acceptableCodings } from './content-coding.js';
import { fieldBytes, fieldTokens, fieldValue, hasDirective, joinedFields } from './header-fields.js';
import type { HeaderFields, IngressRequest, IngressResponse, OriginFetch } from './ingress-types.js';

export type { CacheOutcome } from './cache-status.js';
export type { CacheStats } from './cache-store.js';

/** A response from the cache layer: what the client gets, and what the cache did. */
export type CachedResponse = IngressResponse & { cache: CacheOutcome };

export interface HttpCacheOptions {
  /** Bytes all tunnels' entries may hold on this node together. */
  maxBytes?: number;
  /** Largest entry stored; a larger body streams through unstored. */
  maxEntryBytes?: number;
  /** Bytes held at once for bodies still arriving (copies being taken for storage). */
  maxPendingBytes?: number;
  /** The cache's name in Cache-Status. */
  name?: string;
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
}

export const HTTP_CACHE_DEFAULTS = {
  maxBytes: 256 * 1024 * 1024,
  maxEntryBytes: 8 * 1024 * 1024,
  maxPendingBytes: 64 * 1024 * 1024,
  name: 'tether',
} as const;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** The request as http-cache-semantics reads it: a URL and fields as single strings. */
interface PolicyRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/**
 * A shared HTTP cache (RFC 9111) in front of tunnels' origins, in memory. The rules (what may be
 * stored, freshness, Age, Vary, validators, 304 merging) are http-cache-semantics'; this class
 * stores, selects variants, streams, and keeps each tunnel within its quota and the node within
 * its bound. See docs/http-cache.md.
 */
export class HttpCache {
  private readonly store: CacheStore;
  private readonly pending: PendingBytes;
  private readonly maxEntryBytes: number;
  private readonly name: string;
  private readonly Policy: typeof CachePolicy;
  private readonly revalidating = new WeakSet<CacheEntry>();

  constructor(options: HttpCacheOptions = {}) {
    this.store = new CacheStore(options.maxBytes ?? HTTP_CACHE_DEFAULTS.maxBytes);
    this.pending = new PendingBytes(options.maxPendingBytes ?? HTTP_CACHE_DEFAULTS.maxPendingBytes);
    this.maxEntryBytes = options.maxEntryBytes ?? HTTP_CACHE_DEFAULTS.maxEntryBytes;
    this.name = options.name ?? HTTP_CACHE_DEFAULTS.name;
    const now = options.now ?? Date.now;
    // http-cache-semantics reads the time through this method ("monkey-patch it for testing");
    // revalidatedPolicy() builds its successors with `new this.constructor`, so they keep it.
    this.Policy = class extends CachePolicy {
      now(): number {
        return now();
      }
    };
  }

  /**
   * Answers `request` for `tunnel` from the cache or through `fetch`, storing what may be stored
   * within the tunnel's `quotaBytes` (0: the tunnel does not cache; everything passes through).
   */
  async serve(tunnel: string, quotaBytes: number, request: IngressRequest, fetch: OriginFetch): Promise<CachedResponse> {
    const method = request.method.toUpperCase();
    if (!SAFE_METHODS.has(method)) return this.unsafe(tunnel, request, fetch);
    if (method !== 'GET' && method !== 'HEAD') return this.bypass(request, fetch, 'fwd=method');
    if (quotaBytes <= 0) return this.bypass(request, fetch, 'fwd=bypass; detail=no-quota');
    // Ranges are the origin's to answer: the cache keeps whole bodies only.
    if (request.headers.range !== undefined) return this.bypass(request, fetch, 'fwd=bypass; detail=range');

    const normalized = normalizeRequest(request);
    this.store.trim(tunnel, quotaBytes);
    const lookup: PolicyRequest = { url: request.path, method: 'GET', headers: joinedFields(normalized.headers) };
    const entry = this.store.get(tunnel, request.path, lookup.headers);
    const onlyIfCached = hasDirective(request.headers, 'only-if-cached');
    if (entry === undefined) {
      if (onlyIfCached) return this.gatewayTimeout();
      const fwd = this.store.varyOf(tunnel, request.path) === undefined ? 'uri-miss' : 'vary-miss';
      if (method === 'HEAD') return this.bypass(normalized, fetch, `fwd=${fwd}`, 'miss');
      return this.fetchAndStore(tunnel, quotaBytes, normalized, fetch, `fwd=${fwd}`);
    }

    const verdict = entry.policy.evaluateRequest(lookup);
    if (verdict.response !== undefined && verdict.revalidation === undefined) {
      return this.fromCache(entry, normalized, entry.policy.stale() ? 'stale' : 'hit');
    }
    if (verdict.response !== undefined) {
      // stale-while-revalidate: the stored response now, a fresh one for the next client.
      this.revalidateInBackground(tunnel, quotaBytes, entry, lookup, fetch);
      return this.fromCache(entry, normalized, 'stale');
    }
    if (onlyIfCached) return this.gatewayTimeout();
    if (method === 'HEAD') return this.bypass(normalized, fetch, 'fwd=stale', 'miss');
    const fwd = hasDirective(request.headers, 'no-cache') || /no-cache/.test(fieldValue(request.headers, 'pragma') ?? '') ? 'request' : 'stale';
    return this.revalidate(tunnel, quotaBytes, entry, normalized, lookup, fetch, fwd);
  }

  /** Drops every entry of `tunnel` (its service changed, or it closed); returns how many. */
  purge(tunnel: string): number {
    return this.store.purge(tunnel);
  }

  /** Entries and bytes held, in all and per tunnel, for metrics. */
  stats(): CacheStats & { pendingBytes: number } {
    return { ...this.store.stats(), pendingBytes: this.pending.bytes };
  }

  /** RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI (and same-origin Location / Content-Location). */
  private async unsafe(tunnel: string, request: IngressRequest, fetch: OriginFetch): Promise<CachedResponse> {
    const response = await fetch(request);
    if (response.status < 400) {
      this.store.invalidate(tunnel, request.path);
      for (const name of ['location', 'content-location']) {
        const target = samePath(fieldValue(response.headers, name), fieldValue(request.headers, 'host'));
        if (target !== undefined) this.store.invalidate(tunnel, target);
      }
    }
    return this.annotate(response, 'bypass', 'fwd=method');
  }

  private async bypass(request: IngressRequest, fetch: OriginFetch, params: string, outcome: CacheOutcome = 'bypass'): Promise<CachedResponse> {
    return this.annotate(await fetch(request), outcome, params);
  }

  private annotate(response: IngressResponse, cache: CacheOutcome, params: string): CachedResponse {
    return { ...response, headers: withCacheStatus(response.headers, this.name, params), cache };
  }

  private gatewayTimeout(): CachedResponse {
    // RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored.
    const headers = withCacheStatus({ 'content-length': '0' }, this.name, 'fwd=miss; detail=only-if-cached');
    return { status: 504, headers, body: emptyBody(), cache: 'miss' };
  }

  private fromCache(entry: CacheEntry, request: IngressRequest, cache: CacheOutcome, params?: string): CachedResponse {
    const stored = entry.policy.responseHeaders();
    const ttl = Math.round(entry.policy.maxAge() - entry.policy.age());
    let headers: HeaderFields = { ...stored, 'content-length': String(entry.body.length) };
    headers = withCacheStatus(headers, this.name, params ?? `hit; ttl=${ttl}`);
    const status = entry.status;
    if (status === 200 && notModified(request.headers, headers)) {
      return { status: 304, headers: notModifiedFields(headers), body: emptyBody(), cache };
    }
    const body = request.method.toUpperCase() === 'HEAD' ? emptyBody() : bodyStream(entry.body);
    return { status, headers, body, cache };
  }

  private async revalidate(
    tunnel: string, quotaBytes: number, entry: CacheEntry, request: IngressRequest, lookup: PolicyRequest, fetch: OriginFetch, fwd: string,
  ): Promise<CachedResponse> {
    const conditional: IngressRequest = { method: 'GET', path: request.path, headers: entry.policy.revalidationHeaders(lookup) };
    let response: IngressResponse;
    try {
      response = await fetch(conditional);
    } catch (err) {
      if (this.staleIfError(entry, lookup)) return this.fromCache(entry, request, 'stale', `hit; fwd=${fwd}; detail=stale-if-error`);
      throw err;
    }
    if (response.status >= 500 && this.staleIfError(entry, lookup, response)) {
      response.body.resume();
      return this.fromCache(entry, request, 'stale', `hit; fwd=${fwd}; fwd-status=${response.status}; detail=stale-if-error`);
    }
    if (response.status === 304) {
      response.body.resume();
      const refreshed = entry.policy.revalidatedPolicy(lookup, { status: 304, headers: joinedFields(response.headers) });
      if (refreshed.matches) {
        const updated = this.entryFor(entry.tunnel, entry.path, lookup, entry.status, refreshed.policy, entry.body);
        this.store.put(updated, quotaBytes);
        return this.fromCache(updated, request, 'revalidated', `fwd=${fwd}; fwd-status=304; ttl=${Math.round(refreshed.policy.maxAge() - refreshed.policy.age())}`);
      }
      // The 304 validates the client's own tag, not the stored one: it is the client's answer.
      if (request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined) {
        return this.annotate(response, 'miss', `fwd=${fwd}; fwd-status=304`);
      }
      // A 304 to validators that were only ours, yet matching none of them: the origin says
      // "not modified" all the same, and a client that sent no conditions must get a body.
      return this.fromCache(entry, request, 'revalidated', `fwd=${fwd}; fwd-status=304; detail=unmatched`);
    }
    const full = this.passAndStore(tunnel, quotaBytes, request, response, `fwd=${fwd}; fwd-status=${response.status}`);
    // The origin no longer lets this be stored: the stale copy must not be served again either.
    if (!full.headers['cache-status']?.toString().endsWith('stored')) this.store.invalidate(tunnel, request.path);
    return full;
  }

  private async fetchAndStore(tunnel: string, quotaBytes: number, request: IngressRequest, fetch: OriginFetch, params: string): Promise<CachedResponse> {
    return this.passAndStore(tunnel, quotaBytes, request, await fetch(request), params);
  }

  /** Streams a full origin response to the client, keeping a copy to store when it may be stored. */
  private passAndStore(tunnel: string, quotaBytes: number, request: IngressRequest, response: IngressResponse, params: string): CachedResponse {
    const lookup: PolicyRequest = { url: request.path, method: 'GET', headers: joinedFields(request.headers) };
    const policy = new this.Policy(lookup, { status: response.status, headers: joinedFields(response.headers) }, { shared: true });
    const limit = Math.min(this.maxEntryBytes, quotaBytes, this.store.maxBytes) - ENTRY_OVERHEAD_BYTES - fieldBytes(response.headers) - request.path.length;
    const refusal = refusalOf(policy, response, limit);
    if (refusal !== undefined) return this.annotate(response, 'miss', `${params}; detail=${refusal}`);
    const body = teeBody(response.body, limit, this.pending, (bytes) => {
      // Trailers (gRPC status and the like) are not kept: such a body is not stored.
      const trailers = response.trailers?.();
      if (trailers !== undefined && Object.keys(trailers).length > 0) return;
      this.store.put(this.entryFor(tunnel, request.path, lookup, response.status, policy, bytes), quotaBytes);
    });
    return { ...this.annotate(response, 'miss', `${params}; stored`), body };
  }

  private revalidateInBackground(tunnel: string, quotaBytes: number, entry: CacheEntry, lookup: PolicyRequest, fetch: OriginFetch): void {
    if (this.revalidating.has(entry)) return;
    this.revalidating.add(entry);
    // The client's own validators are not ours to send: only the stored response's.
    const own = { ...lookup, headers: { ...lookup.headers } };
    delete own.headers['if-none-match'];
    delete own.headers['if-modified-since'];
    const request: IngressRequest = { method: 'GET', path: entry.path, headers: own.headers };
    this.revalidate(tunnel, quotaBytes, entry, request, own, fetch, 'stale')
      .then((response) => response.body.resume())
      .catch(() => undefined)
      .finally(() => this.revalidating.delete(entry));
  }

  private staleIfError(entry: CacheEntry, lookup: PolicyRequest, response?: IngressResponse): boolean {
    try {
      const outcome = entry.policy.revalidatedPolicy(lookup, response && { status: response.status, headers: joinedFields(response.headers) });
      // The library hands back the same policy, unmodified, exactly when stale-if-error applies.
      return outcome.policy === entry.policy && !outcome.modified;
    } catch {
      return false;
    }
  }

  private entryFor(tunnel: string, path: string, lookup: PolicyRequest, status: number, policy: CachePolicy, body: Buffer): CacheEntry {
    const headers = policy.responseHeaders();
    const vary = fieldTokens(headers, 'vary');
    const size = body.length + fieldBytes(headers) + path.length + ENTRY_OVERHEAD_BYTES;
    return { tunnel, path, vary, variant: variantKey(vary, lookup.headers), status, policy, body, size };
  }
}

/** Why a response is not stored, or undefined when it may be. */
function refusalOf(policy: CachePolicy, response: IngressResponse, limit: number): string | undefined {
  if (!policy.storable()) return 'not-storable';
  // A shared cache must never hand one client's cookie to another: whatever Cache-Control says,
  // a response setting a cookie is not stored.
  if (response.headers['set-cookie'] !== undefined) return 'set-cookie';
  if (fieldTokens(response.headers, 'vary').includes('*')) return 'vary-star';
  const validator = response.headers.etag !== undefined || response.headers['last-modified'] !== undefined;
  if (policy.timeToLive() <= 0 && !validator) return 'no-freshness';
  const length = Number(fieldValue(response.headers, 'content-length'));
  if (limit <= 0 || (Number.isFinite(length) && length > limit)) return 'too-large';
  return undefined;
}

/**
 * Accept-Encoding cut down to the codings that matter (br, gzip), so an origin that varies on it
 * stores two or three variants rather than one per browser's spelling of the field.
 */
function normalizeRequest(request: IngressRequest): IngressRequest {
  if (request.headers['accept-encoding'] === undefined) return request;
  const headers = { ...request.headers };
  const codings = acceptableCodings(headers);
  if (codings.length === 0) delete headers['accept-encoding'];
  else headers['accept-encoding'] = codings.join(', ');
  return { ...request, headers };
}

/** The path of a Location-style URI if it names the same origin (a path, or an absolute URI with this host). */
function samePath(uri: string | undefined, host: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  if (uri.startsWith('/') && !uri.startsWith('//')) return uri;
  try {
    const url = new URL(uri);
    return host !== undefined && url.host === host.toLowerCase() ? `${url.pathname}${url.search}` : undefined;
  } catch {
    return undefined;
  }
}
