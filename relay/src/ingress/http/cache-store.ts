import { LRUCache } from 'lru-cache';
import type CachePolicy from 'http-cache-semantics';

/** One stored response: a variant of one resource (path and query) of one tunnel. */
export interface CacheEntry {
  readonly tunnel: string;
  /** Path and query of the resource. */
  readonly path: string;
  /** The Vary field names (lower-case) the entry was selected by. */
  readonly vary: readonly string[];
  /** The values of those fields in the request that stored it, as a key. */
  readonly variant: string;
  readonly status: number;
  readonly policy: CachePolicy;
  readonly body: Buffer;
  /** Bytes the entry counts for against the node bound and its tunnel's quota. */
  readonly size: number;
}

/** Counted per entry on top of its body and fields: keys, policy object, index slots. */
export const ENTRY_OVERHEAD_BYTES = 512;

/** Entries and bytes held, in all and per tunnel. */
export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  tunnels: Record<string, { entries: number; bytes: number }>;
}

interface TunnelShelf {
  bytes: number;
  /** Entries by key, least recently used first (a Map keeps insertion order). */
  recency: Map<string, CacheEntry>;
}

/** The variants of one resource and the Vary names that tell them apart. */
interface Resource {
  vary: readonly string[];
  keys: Set<string>;
}

/** The key of a variant within its resource: the selecting field values, absent told from empty. */
export function variantKey(vary: readonly string[], headers: Record<string, string>): string {
  return JSON.stringify(vary.map((name) => headers[name] ?? null));
}

const resourceKey = (tunnel: string, path: string): string => `${tunnel}\0${path}`;

/**
 * Holds cache entries under two bounds: the node's bytes (one LRU over every tunnel, from
 * lru-cache) and each tunnel's quota (an LRU per tunnel, evicted first, so one busy tunnel
 * cannot push another's entries out until the node as a whole is full). Each resource keeps the
 * Vary names of its latest response, so a lookup finds the variant without scanning.
 */
export class CacheStore {
  private readonly lru: LRUCache<string, CacheEntry>;
  private readonly shelves = new Map<string, TunnelShelf>();
  private readonly resources = new Map<string, Resource>();

  constructor(readonly maxBytes: number) {
    this.lru = new LRUCache<string, CacheEntry>({
      maxSize: maxBytes,
      sizeCalculation: (entry) => entry.size,
      // After removal, so forgetting an entry never re-enters the LRU while it is mid-update.
      disposeAfter: (entry, key) => this.forget(key, entry),
    });
  }

  /** The resource's Vary names if any variant of it is stored. */
  varyOf(tunnel: string, path: string): readonly string[] | undefined {
    return this.resources.get(resourceKey(tunnel, path))?.vary;
  }

  /** The stored variant for these (joined) request fields, marked as recently used. */
  get(tunnel: string, path: string, headers: Record<string, string>): CacheEntry | undefined {
    const resource = this.resources.get(resourceKey(tunnel, path));
    if (resource === undefined) return undefined;
    const key = `${resourceKey(tunnel, path)}\0${variantKey(resource.vary, headers)}`;
    const entry = this.lru.get(key);
    if (entry === undefined) return undefined;
    const shelf = this.shelves.get(tunnel);
    shelf?.recency.delete(key);
    shelf?.recency.set(key, entry);
    return entry;
  }

  /**
   * Stores the entry (replacing the same variant), evicting the tunnel's least recently used
   * entries until it fits `quotaBytes`, then the node's. Returns false when it cannot fit at all.
   */
  put(entry: CacheEntry, quotaBytes: number): boolean {
    if (entry.size > quotaBytes || entry.size > this.maxBytes) return false;
    const rKey = resourceKey(entry.tunnel, entry.path);
    const key = `${rKey}\0${entry.variant}`;
    const resource = this.resources.get(rKey);
    if (resource !== undefined && resource.vary.join() !== entry.vary.join()) {
      // The origin now varies on other fields: the old variants can no longer be selected.
      for (const old of [...resource.keys]) this.lru.delete(old);
    }
    this.lru.delete(key);
    this.trim(entry.tunnel, quotaBytes - entry.size);
    this.lru.set(key, entry);
    if (!this.lru.has(key)) return false;
    const shelf = this.shelves.get(entry.tunnel) ?? { bytes: 0, recency: new Map<string, CacheEntry>() };
    this.shelves.set(entry.tunnel, shelf);
    shelf.bytes += entry.size;
    shelf.recency.set(key, entry);
    const current = this.resources.get(rKey) ?? { vary: entry.vary, keys: new Set<string>() };
    this.resources.set(rKey, current);
    current.keys.add(key);
    return true;
  }

  /** Evicts the tunnel's least recently used entries until it holds at most `bytes`. */
  trim(tunnel: string, bytes: number): void {
    const shelf = this.shelves.get(tunnel);
    while (shelf !== undefined && shelf.bytes > Math.max(0, bytes) && shelf.recency.size > 0) {
      const oldest = shelf.recency.keys().next().value as string;
      this.lru.delete(oldest);
    }
  }

  /** Drops every variant of one resource; returns how many. */
  invalidate(tunnel: string, path: string): number {
    const resource = this.resources.get(resourceKey(tunnel, path));
    if (resource === undefined) return 0;
    const keys = [...resource.keys];
    for (const key of keys) this.lru.delete(key);
    return keys.length;
  }

  /** Drops every entry of one tunnel; returns how many. */
  purge(tunnel: string): number {
    const shelf = this.shelves.get(tunnel);
    if (shelf === undefined) return 0;
    const keys = [...shelf.recency.keys()];
    for (const key of keys) this.lru.delete(key);
    return keys.length;
  }

  stats(): CacheStats {
    const tunnels: CacheStats['tunnels'] = {};
    for (const [tunnel, shelf] of this.shelves) tunnels[tunnel] = { entries: shelf.recency.size, bytes: shelf.bytes };
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, maxBytes: this.maxBytes, tunnels };
  }

  private forget(key: string, entry: CacheEntry): void {
    const shelf = this.shelves.get(entry.tunnel);
    if (shelf !== undefined && shelf.recency.get(key) === entry) {
      shelf.recency.delete(key);
      shelf.bytes -= entry.size;
      if (shelf.recency.size === 0) this.shelves.delete(entry.tunnel);
    }
    const rKey = resourceKey(entry.tunnel, entry.path);
    const resource = this.resources.get(rKey);
    if (resource !== undefined && !this.lru.has(key)) {
      resource.keys.delete(key);
      if (resource.keys.size === 0) this.resources.delete(rKey);
    }
  }
}
