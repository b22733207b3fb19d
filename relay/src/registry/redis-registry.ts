import { createError, ErrorCode, type TunnelSettings } from '@tether/shared';
import type { Clock } from '../ports/clock.js';
import type { ClaimResult, LeaseClaim, TunnelLease, TunnelRegistry } from '../ports/tunnel-registry.js';
import type { RedisClient } from '../stores/redis/redis-client.js';
import { callRedis } from '../stores/redis/redis-errors.js';
import { CLAIM_LEASE, RELEASE_LEASE, RENEW_LEASE } from './redis-lease-scripts.js';

/** A lease as stored in its tunnel's hash, under the holding node's id. */
interface StoredLease { linkId: number; hostId: number; expiresAt: number; claimedAt: number; settings?: string }

/** The Lua scripts, once defined on the client (ioredis loads them with EVALSHA, EVAL on NOSCRIPT). */
interface Scripts {
  tetherLeaseClaim(key: string, now: string, nodeId: string, linkId: string, hostId: string, leaseMs: string, ttlMs: string, settings: string): Promise<[string, string, string]>;
  tetherLeaseRenew(key: string, now: string, nodeId: string, linkId: string, hostId: string, leaseMs: string, ttlMs: string, settings: string): Promise<number>;
  tetherLeaseRelease(key: string, now: string, nodeId: string, linkId: string): Promise<number>;
}

/** The real-time floor of a tunnel key's TTL: it only has to outlive the leases in it. */
const MIN_KEY_TTL_MS = 60_000;

/**
 * `PREFIX:{lease:NAME}:holders`: one hash per tunnel with a hash tag of its own, so the tunnels
 * spread over the masters of a Redis Cluster and a tunnel's state is one key (docs/cluster.md).
 */
export const leaseKey = (prefix: string, tunnel: string): string => `${prefix}:{lease:${tunnel}}:holders`;

/** A lease's settings as stored: JSON, or '' for none. */
const storedSettings = (claim: LeaseClaim): string => (claim.settings ? JSON.stringify(claim.settings) : '');

const toLease = (tunnel: string, nodeId: string, s: StoredLease): TunnelLease => {
  const lease: TunnelLease = { tunnel, nodeId, linkId: s.linkId, hostId: s.hostId, expiresAt: s.expiresAt };
  if (s.settings) lease.settings = JSON.parse(s.settings) as TunnelSettings;
  return lease;
};
const oldestFirst = (a: [string, StoredLease], b: [string, StoredLease]): number =>
  a[1].claimedAt - b[1].claimedAt || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * The registry of a relay cluster: tunnel leases in the cluster's Redis (standalone or Redis
 * Cluster), so every node sees which nodes hold a tunnel. Same semantics as
 * MemoryTunnelRegistry (registry-contract.ts); expiry is judged against the injected clock,
 * passed into each script, so Redis's clock plays no part. Holders with equal claim times are
 * ordered by node id (the memory registry keeps insertion order). A Redis that is down or silent
 * fails each call within about a second with STORE_UNAVAILABLE, like the store. The client is
 * shared with (and owned by) the RedisStore: `close()` stops using it, never quits it.
 */
export class RedisTunnelRegistry implements TunnelRegistry {
  private readonly scripts: Scripts;
  private readonly prefix: string;
  private readonly keyTtlMs: string;
  private closed = false;

  constructor(
    private readonly client: RedisClient,
    private readonly clock: Clock,
    private readonly leaseMs: number,
    options: { prefix?: string } = {},
  ) {
    this.prefix = options.prefix ?? 'tether';
    this.keyTtlMs = String(Math.max(2 * leaseMs, MIN_KEY_TTL_MS));
    client.defineCommand('tetherLeaseClaim', { lua: CLAIM_LEASE, numberOfKeys: 1 });
    client.defineCommand('tetherLeaseRenew', { lua: RENEW_LEASE, numberOfKeys: 1 });
    client.defineCommand('tetherLeaseRelease', { lua: RELEASE_LEASE, numberOfKeys: 1 });
    this.scripts = client as unknown as Scripts;
  }

  claim(claim: LeaseClaim): Promise<ClaimResult> {
    return this.call(async () => {
      const [status, nodeId, raw] = await this.scripts.tetherLeaseClaim(
        this.key(claim.tunnel), this.now(), claim.nodeId, String(claim.linkId), String(claim.hostId), String(this.leaseMs), this.keyTtlMs, storedSettings(claim),
      );
      return { granted: status === 'granted', lease: toLease(claim.tunnel, nodeId, JSON.parse(raw) as StoredLease) };
    });
  }

  renew(nodeId: string, leases: readonly LeaseClaim[]): Promise<string[]> {
    return this.call(async () => {
      // One script per tunnel, all at once: the tunnels live in different slots (no multi-key command).
      const renewed = await Promise.all(leases.map((l) =>
        this.scripts.tetherLeaseRenew(this.key(l.tunnel), this.now(), nodeId, String(l.linkId), String(l.hostId), String(this.leaseMs), this.keyTtlMs, storedSettings(l)),
      ));
      return leases.filter((_, i) => renewed[i] !== 1).map((l) => l.tunnel);
    });
  }

  release(tunnel: string, nodeId: string, linkId: number): Promise<void> {
    return this.call(async () => {
      await this.scripts.tetherLeaseRelease(this.key(tunnel), this.now(), nodeId, String(linkId));
    });
  }

  lookup(tunnel: string): Promise<TunnelLease[]> {
    return this.call(() => this.live(tunnel));
  }

  lookupMany(tunnels: readonly string[]): Promise<Map<string, TunnelLease[]>> {
    return this.call(async () => {
      const all = await Promise.all(tunnels.map((tunnel) => this.live(tunnel)));
      const found = new Map<string, TunnelLease[]>();
      tunnels.forEach((tunnel, i) => {
        if (all[i].length > 0) found.set(tunnel, all[i]);
      });
      return found;
    });
  }

  /** Stops using the shared client; the store that owns it closes it. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** The live leases of `tunnel`, oldest claim first (lapsed fields are left to the next write or the key's TTL). */
  private async live(tunnel: string): Promise<TunnelLease[]> {
    const now = this.clock.now();
    const fields = await this.client.hgetall(this.key(tunnel));
    return Object.entries(fields)
      .map(([node, raw]): [string, StoredLease] => [node, JSON.parse(raw) as StoredLease])
      .filter(([, s]) => s.expiresAt > now)
      .sort(oldestFirst)
      .map(([node, s]) => toLease(tunnel, node, s));
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(createError(ErrorCode.STORE_UNAVAILABLE, 'the tunnel registry is closed'));
    return callRedis(operation);
  }

  private key(tunnel: string): string {
    return leaseKey(this.prefix, tunnel);
  }

  private now(): string {
    return String(this.clock.now());
  }
}
