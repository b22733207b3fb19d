import { noopAuditSink } from './audit/noop-sink.js';
import type { RelayLimits, RelayOptions } from './config.js';
import { noopMetrics } from './metrics/noop-metrics.js';
import { systemClock } from './ports/clock.js';
import type { RelayPorts } from './ports/index.js';
import { MemoryTunnelRegistry } from './registry/memory-registry.js';
import { SqliteStore } from './stores/sqlite/sqlite-store.js';

export interface ResolvedPorts {
  ports: RelayPorts;
  /** Closes the ports built here (not the injected ones), store last. */
  closeOwned: () => Promise<void>;
}

/**
 * The one place the single-node defaults are built: SQLite in `databaseFile`, tunnel leases in
 * memory, no audit sink, no metrics exporter, the system clock. Injected ports are used as given.
 */
export function resolvePorts(options: RelayOptions, limits: RelayLimits): ResolvedPorts {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? new SqliteStore(options.databaseFile ?? ':memory:');
  const registry = options.registry ?? new MemoryTunnelRegistry(clock, limits.tunnelLeaseMs);
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
