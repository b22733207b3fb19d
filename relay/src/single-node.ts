import type { FastifyBaseLogger } from 'fastify';
import { noopAuditSink } from './audit/noop-sink.js';
import { resolveCluster, type RelayLimits, type RelayOptions } from './config.js';
import { noopMetrics } from './metrics/noop-metrics.js';
import { systemClock } from './ports/clock.js';
import type { RelayPorts } from './ports/index.js';
import { MemoryTunnelRegistry } from './registry/memory-registry.js';
import { RedisTunnelRegistry } from './registry/redis-registry.js';
import type { RedisStore } from './stores/redis/redis-store.js';
import { openRedisStore } from './stores/redis/open-redis-store.js';
import { SqliteStore } from './stores/sqlite/sqlite-store.js';

export interface ResolvedPorts {
  ports: RelayPorts;
  /** Closes the ports built here (not the injected ones), store last. */
  closeOwned: () => Promise<void>;
}

/**
 * The one place the default ports are built: the store in Redis when `options.redis` names one
 * (a cluster node: opened by `openClusterStore`, passed as `clusterStore`), else SQLite in
 * `databaseFile`; tunnel leases in that same Redis for a cluster node (on the store's client and
 * key prefix, so every node sees which nodes hold a tunnel), else in memory; no audit sink, no
 * metrics exporter, the system clock. Injected ports are used as given. The Redis registry
 * borrows the store's client: closing the registry leaves it to the store, closed last.
 */
export function resolvePorts(options: RelayOptions, limits: RelayLimits, clusterStore?: RedisStore): ResolvedPorts {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? clusterStore ?? new SqliteStore(options.databaseFile ?? ':memory:');
  const registry =
    options.registry ??
    (clusterStore && !options.store
      ? new RedisTunnelRegistry(clusterStore.client, clock, limits.tunnelLeaseMs, { prefix: clusterStore.prefix })
      : new MemoryTunnelRegistry(clock, limits.tunnelLeaseMs));
  const ports: RelayPorts = { store, registry, clock, audit: options.audit ?? noopAuditSink, metrics: options.metrics ?? noopMetrics };
  return {
    ports,
    closeOwned: async () => {
      if (!options.audit) await ports.audit.close();
      if (!options.registry) await registry.close();
      if (!options.store) await store.close();
    },
  };
}

/**
 * The Redis store when `options.redis` names one and no store is injected (connected, or
 * failing with STORE_UNAVAILABLE); undefined otherwise. Async, unlike the rest: it connects.
 */
export async function openClusterStore(options: RelayOptions, log: FastifyBaseLogger): Promise<RedisStore | undefined> {
  const cluster = resolveCluster(options);
  if (!cluster || options.store) return undefined;
  return openRedisStore(cluster.redis, log);
}
