import type { FastifyBaseLogger } from 'fastify';
import { ChainedAuditLog } from './audit/chained-log.js';
import { noopAuditSink } from './audit/noop-sink.js';
import { TeeAuditSink } from './audit/tee-sink.js';
import { resolveCluster, type RelayLimits, type RelayOptions } from './config.js';
import { PromMetrics } from './metrics/prom-metrics.js';
import { systemClock } from './ports/clock.js';
import type { RelayPorts } from './ports/index.js';
import { MemoryTunnelRegistry } from './registry/memory-registry.js';
import { RedisTunnelRegistry } from './registry/redis-registry.js';
import type { RedisStore } from './stores/redis/redis-store.js';
import { openRedisStore } from './stores/redis/open-redis-store.js';
import { SqliteStore } from './stores/sqlite/sqlite-store.js';

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface ResolvedPorts {
  ports: RelayPorts;
  /** The signed audit log, when `auditLog` asked for one (also inside `ports.audit`). */
  auditLog: ChainedAuditLog | undefined;
  /** Closes the ports built here (not the injected ones), store last. */
  closeOwned: () => Promise<void>;
}

/**
 * The one place the default ports are built: the store in Redis when `options.redis` names one
 * (a cluster node: opened by `openClusterStore`, passed as `clusterStore`), else SQLite in
 * `databaseFile`; tunnel leases in that same Redis for a cluster node (on the store's client and
 * key prefix, so every node sees which nodes hold a tunnel), else in memory; the signed audit log
 * in the store when `auditLog` gives its keys (else no audit sink); metrics on a prom-client
 * registry of this app's own (served at GET /metrics); the system clock. Injected ports are used as given. The Redis registry
 * borrows the store's client: closing the registry leaves it to the store, closed last.
 */
export function resolvePorts(options: RelayOptions, limits: RelayLimits, clusterStore?: RedisStore, context?: { nodeId: string; log: FastifyBaseLogger }): ResolvedPorts {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? clusterStore ?? new SqliteStore(options.databaseFile ?? ':memory:');
  const registry =
    options.registry ??
    (clusterStore && !options.store
      ? new RedisTunnelRegistry(clusterStore.client, clock, limits.tunnelLeaseMs, { prefix: clusterStore.prefix })
      : new MemoryTunnelRegistry(clock, limits.tunnelLeaseMs));
  const auditLog = options.auditLog
    ? new ChainedAuditLog({ store: store.auditLog, keys: options.auditLog.keys, clock, nodeId: context?.nodeId ?? 'relay', log: context?.log ?? silentLog, checkpointIntervalMs: options.auditLog.checkpointIntervalMs, retentionMs: options.auditLog.retentionMs, archive: options.auditLog.archive })
    : undefined;
  // An injected sink gets every event as well as the signed log (a JSON lines mirror, a test's memory sink).
  const audit = auditLog && options.audit ? new TeeAuditSink([auditLog, options.audit]) : (auditLog ?? options.audit ?? noopAuditSink);
  const ports: RelayPorts = { store, registry, clock, audit, metrics: options.metrics ?? new PromMetrics(options.metricsOptions) };
  return {
    ports,
    auditLog,
    closeOwned: async () => {
      await auditLog?.close();
      if (options.closeAudit) await options.audit?.close();
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
