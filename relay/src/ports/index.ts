import type { AuditSink } from './audit-sink.js';
import type { Clock } from './clock.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store.js';
import type { TunnelRegistry } from './tunnel-registry.js';

/** The relay's ports: everything below `buildApp` reaches I/O and time only through these. */
export interface RelayPorts {
  store: Store;
  registry: TunnelRegistry;
  audit: AuditSink;
  metrics: Metrics;
  clock: Clock;
}

export type { AuditEvent, AuditSink, AuditSubject } from './audit-sink.js';
export { systemClock, type Clock } from './clock.js';
export type { Counter, Gauge, Histogram, HistogramDefinition, Labels, MetricDefinition, Metrics } from './metrics.js';
export type { Store, TunnelRecord, UserRecord } from './store.js';
export { DEFAULT_TUNNEL_SETTINGS, TUNNEL_ROLES } from './team-store.js';
export type { AccessRequestInput, AccessRequestRecord, AccessReview, GrantInput, GrantRecord, InviteInput, InviteRecord, InviteRefusal, ReviewOutcome, TeamStore, TunnelRole, TunnelSettings } from './team-store.js';
export type { ClaimResult, LeaseClaim, TunnelLease, TunnelRegistry } from './tunnel-registry.js';
export type { RateDecision, RateLimitStore, RateRule, StoreDownPolicy } from './rate-limit-store.js';
