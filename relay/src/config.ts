import type { AdaptiveLimitOptions } from './limits/adaptive-limit.js';
import type { UsageRetention } from './ports/usage-store.js';
import type { AuditKeyring } from './audit/audit-keys.js';
import type { AuditSinkConfig } from './audit/siem/siem-sinks.js';
import type { FastifyBaseLogger } from 'fastify';
import { createError, Defaults, ErrorCode, MAX_FRAME_SIZE_CEILING, UdpDefaults } from '@tether/shared';
import type { PromMetricsOptions } from './metrics/prom-metrics.js';
import type { RelayPorts } from './ports/index.js';
import type { RedisTarget } from './stores/redis/redis-client.js';
import type { Tracer } from '@opentelemetry/api';

/** Limits the relay enforces; every one has a default. */
export interface RelayLimits {
  maxFrameSize: number;
  maxMessageSize: number;
  maxStreamsPerConnection: number;
  /** Per-stream buffer cap: the largest credit a receiver may grant its peer. */
  maxBufferedBytesPerStream: number;
  maxBufferedBytesPerConnection: number;
  handshakeTimeoutMs: number;
  openTimeoutMs: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  /**
   * When a host registers a tunnel another link of the same user already holds, the old link is
   * pinged; silent this long, it is taken for dead (a host whose network changed) and replaced.
   */
  hostProbeMs: number;
  /** OPENs of one connection that may wait for their look-ups at once; more are refused. */
  maxPendingOpensPerConnection: number;
  /** Frames of one stream held while its OPEN is being resolved; more close the link. */
  maxDeferredFramesPerOpen: number;
  /** How long a tunnel's lease in the registry lasts unless renewed (every ping interval). */
  tunnelLeaseMs: number;
  /** Frames handled from one link per turn of the event loop before others get theirs. */
  maxFramesPerTurn: number;
  /** A link holding more than maxBufferedBytesPerConnection must drain within this, or is closed. */
  drainDeadlineMs: number;
  /** Connections (host and connector links) one identity may hold on a relay; the admin has no limit. */
  maxLinksPerUser: number;
  /** Connections from one source address. */
  maxLinksPerAddress: number;
  /** Tunnel names one identity may hold (claimed by sharing; freed with tether tunnel delete). */
  maxTunnelsPerUser: number;
  /** Host registrations (shares, reconnects included) one identity may make per minute. */
  maxRegistrationsPerMinute: number;
  /** Largest UDP datagram payload routed (docs/udp.md); a larger one is dropped and counted. Never above maxFrameSize. */
  maxDatagramSize: number;
  /** UDP flows (streams) one UDP tunnel may have through this node at once; more OPENs are refused with FLOW_LIMIT. */
  maxFlowsPerTunnel: number;
  /**
   * A datagram is dropped (and counted), never queued, towards a link that holds more than this
   * many bytes: UDP must not wait behind a busy stream, nor fill the link's buffer.
   */
  maxDatagramBufferedBytes: number;
}

/**
 * What `buildApp` takes: settings, and the ports it runs on. A port left out gets its
 * single-node default (see single-node.ts); the app closes the ports it built, never injected ones.
 */
/**
 * The adaptive open limit's defaults: roomy enough that a healthy relay never meets it (it
 * starts at 500 opens under way at once and grows while they are answered fast), cut by the
 * event-loop delay (p99 past 100 ms) and by latency past 1.5× its baseline, never below 50.
 */
export const DEFAULT_ADAPTIVE_OPENS: AdaptiveLimitOptions = { initialLimit: 500, minLimit: 50, maxLimit: 20_000 };

export interface RelayOptions extends Partial<RelayPorts> {
  /** Token of the admin identity (only its hash is kept in memory). */
  adminToken: string;
  /** SQLite file, or ':memory:', for the default store (ignored when `store` is given). */
  databaseFile?: string;
  limits?: Partial<RelayLimits>;
  /** pino options, `false` to silence, `true` for defaults, or a logger instance to use. */
  logger?: boolean | Record<string, unknown> | FastifyBaseLogger;
  /** This node's id in the tunnel registry (a random one by default). */
  nodeId?: string;
  /**
   * Keep users, tokens and tunnel names in this Redis (standalone or Redis Cluster) instead of
   * SQLite, shared with every relay node given the same Redis (ignored when `store` is given).
   */
  redis?: RedisTarget;
  /** Required with `redis`: the secret every node of the cluster is given (see resolveCluster). */
  clusterSecret?: string;
  /**
   * With `redis`: how other nodes reach this one (http:// or https:// URL), listed in the node
   * registry. Default: http://HOST:PORT of the address the app listens on.
   */
  advertise?: string;
  /** The version this node reports in the node registry. */
  version?: string;
  /** With `redis`: heartbeat period and TTL of the node registry (default 2000 and 6000 ms). */
  heartbeat?: { intervalMs?: number; ttlMs?: number };
  /**
   * The signed, hash-chained audit log (docs/audit.md), in the store, under these keys (every
   * node of a cluster given the same). Without it (and without an injected `audit` sink) there is
   * no audit log. Ignored when `audit` is given.
   */
  auditLog?: {
    keys: AuditKeyring;
    checkpointIntervalMs?: number;
    /**
     * Fail closed: while the log cannot be written, HTTP requests (WebSocket upgrades included)
     * are refused with STORE_UNAVAILABLE before they act, and stream opens too.
     */
    failClosed?: boolean;
    /** Retention: records older than this many ms are archived and pruned (hourly). */
    retentionMs?: number;
    /** Where pruned records go first (see ChainedAuditLog's `archive`). */
    archive?: (from: number, to: number, lines: AsyncIterable<string>) => Promise<string>;
  };
  /**
   * SIEMs the signed audit log is forwarded to, at least once, from a cursor kept in the store
   * (docs/audit.md, "SIEM export"). Needs `auditLog`. A sink that is down never blocks the relay.
   */
  auditSinks?: readonly AuditSinkConfig[];
  /** How often a forwarder looks for records written by other nodes (default 1000 ms). */
  auditSinkPollMs?: number;
  /**
   * Rate limits (docs/rate-limits.md): any subset of RateLimitRules over the defaults, or `false`
   * for none. Enforced cluster-wide in Redis with `redis`, in this process's memory otherwise.
   */
  rateLimits?: unknown;
  /** Shadow mode: rate limit decisions are counted, logged and audited, never enforced. */
  rateLimitShadow?: boolean;
  /**
   * The adaptive limit of stream opens under way at once (docs/rate-limits.md): over
   * DEFAULT_ADAPTIVE_OPENS, or `false` for none. In shadow mode with `rateLimitShadow`.
   */
  adaptiveOpens?: AdaptiveLimitOptions | false;
  /** Close the injected `audit` sink with the app, after its last event (a sink built for this app alone). */
  closeAudit?: boolean;
  /** The default (prom-client) metrics port's options, when `metrics` is not injected (docs/metrics.md). */
  metricsOptions?: PromMetricsOptions;
  /** Also count stream opens and bytes per tunnel name, for at most this many tunnels (off when absent or 0). */
  metricsTunnelLabels?: number;
  /** Usage analytics (docs/analytics.md): retention per resolution and flush interval; false: not counted. */
  analytics?: { retention?: Partial<UsageRetention>; flushMs?: number } | false;
  /** Spans for HTTP requests, upgrades and stream opens (docs/tracing.md); none: tracing is off. */
  tracer?: Tracer;
  /**
   * The HTTP ingress (docs/http.md): tunnels shared with `--http` are reached at NAME.DOMAIN on
   * the relay's port (`localhost` works on one machine: NAME.localhost). None: no ingress.
   */
  publicDomain?: string;
  /** Listen with TLS, offering h2 and http/1.1 by ALPN (PEM). */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** The HTTP ingress's cache, for tunnels that opt in (`--cache`): bytes per node in all. */
  httpCacheBytes?: number;
}

/** An advertise URL, checked: http(s), with a host that is not a wildcard address. */
export function checkAdvertise(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw createError(ErrorCode.INVALID_CONFIG, `--advertise takes a URL like http://10.0.0.5:8080, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw createError(ErrorCode.INVALID_CONFIG, `--advertise takes an http:// or https:// URL, got ${JSON.stringify(url)}`);
  if (WILDCARD_HOSTS.has(parsed.hostname)) throw createError(ErrorCode.INVALID_CONFIG, `--advertise must name an address other nodes can connect to, not ${parsed.hostname}`);
  return url.replace(/\/+$/, '');
}

/** Addresses that mean "every interface": fine to listen on, useless to connect to. */
export const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/** Shortest cluster secret accepted: the same floor as the admin token. */
export const MIN_CLUSTER_SECRET_LENGTH = 16;

/**
 * The cluster settings, checked: undefined without Redis; with Redis, a cluster secret is
 * required. Nodes will authenticate each other with it once they talk to each other
 * (cross-node routing, a later slice); it is required from the first slice on so that a
 * deployment never runs without one.
 */
export function resolveCluster(options: { redis?: RedisTarget; clusterSecret?: string }): { redis: RedisTarget; clusterSecret: string } | undefined {
  if (!options.redis) return undefined;
  const secret = options.clusterSecret;
  if (secret === undefined || secret === '') {
    throw createError(ErrorCode.INVALID_CONFIG, 'a relay on Redis needs --cluster-secret (or TETHER_CLUSTER_SECRET): give every node of the cluster the same secret of at least 16 characters');
  }
  if (secret.length < MIN_CLUSTER_SECRET_LENGTH) {
    throw createError(ErrorCode.INVALID_CONFIG, `the cluster secret must be at least ${MIN_CLUSTER_SECRET_LENGTH} characters`);
  }
  return { redis: options.redis, clusterSecret: secret };
}

export const defaultLimits: RelayLimits = {
  maxFrameSize: Defaults.maxFrameSize,
  maxMessageSize: Defaults.maxMessageSize,
  maxStreamsPerConnection: Defaults.maxStreamsPerConnection,
  maxBufferedBytesPerStream: Defaults.maxWindow,
  maxBufferedBytesPerConnection: Defaults.maxBufferedBytesPerConnection,
  handshakeTimeoutMs: Defaults.handshakeTimeoutMs,
  openTimeoutMs: Defaults.openTimeoutMs,
  // Faster than the clients' own keepalive (Defaults): a relay that keeps a dead host link
  // delays the resume of its streams until it notices (see HOST_RESUME_TIMEOUT_MS).
  pingIntervalMs: 5000,
  idleTimeoutMs: 15_000,
  drainTimeoutMs: Defaults.drainTimeoutMs,
  hostProbeMs: 2000,
  maxPendingOpensPerConnection: 1024,
  maxDeferredFramesPerOpen: 64,
  tunnelLeaseMs: 15_000,
  maxFramesPerTurn: 1024,
  drainDeadlineMs: 10_000,
  maxLinksPerUser: 64,
  maxLinksPerAddress: 256,
  maxTunnelsPerUser: 100,
  maxRegistrationsPerMinute: 120,
  maxDatagramSize: UdpDefaults.maxDatagramSize,
  maxFlowsPerTunnel: UdpDefaults.maxFlowsPerTunnel,
  maxDatagramBufferedBytes: 1024 * 1024,
};

/** Merges `partial` over the defaults and rejects values that cannot work, naming them. */
export function resolveLimits(partial: Partial<RelayLimits> = {}): RelayLimits {
  const limits = { ...defaultLimits };
  // The default datagram limit follows a smaller frame limit; one given explicitly must fit.
  if (partial.maxDatagramSize === undefined && partial.maxFrameSize !== undefined) limits.maxDatagramSize = Math.min(defaultLimits.maxDatagramSize, partial.maxFrameSize);
  for (const [key, value] of Object.entries(partial) as [keyof RelayLimits, unknown][]) {
    if (value === undefined) continue;
    if (!(key in defaultLimits)) throw createError(ErrorCode.INVALID_CONFIG, `unknown relay limit ${key}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw createError(ErrorCode.INVALID_CONFIG, `relay limit ${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    limits[key] = value;
  }
  if (limits.maxMessageSize < limits.maxFrameSize + 10) {
    throw createError(ErrorCode.INVALID_CONFIG, 'maxMessageSize must hold at least one frame of maxFrameSize');
  }
  if (limits.maxDatagramSize > limits.maxFrameSize) {
    throw createError(ErrorCode.INVALID_CONFIG, `maxDatagramSize (${limits.maxDatagramSize}) may be at most maxFrameSize (${limits.maxFrameSize}): a datagram travels in one frame`);
  }
  if (limits.maxFrameSize > MAX_FRAME_SIZE_CEILING) throw createError(ErrorCode.INVALID_CONFIG, 'maxFrameSize may be at most 16 MiB');
  if (limits.maxMessageSize > MAX_FRAME_SIZE_CEILING + 64 * 1024) {
    throw createError(ErrorCode.INVALID_CONFIG, 'maxMessageSize may be at most 16 MiB + 64 KiB');
  }
  return limits;
}
