import { loadRateLimits } from './limits/rate-limit-file.js';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createError, ErrorCode } from '@tether/shared';
import { buildApp, type RelayApp } from './app.js';
import { resolveCluster, resolveLimits, WILDCARD_HOSTS, type RelayLimits } from './config.js';
import { JsonLinesAuditSink } from './audit/json-lines-sink.js';
import { loadOrCreateAuditKeyring } from './audit/audit-keys.js';
import { archiveToFolder } from './audit/archive-files.js';
import { checkSinks, sinkName, type AuditSinkConfig } from './audit/siem/siem-sinks.js';
import { describeTarget, type RedisTarget } from './stores/redis/redis-client.js';
import { generateToken } from './tokens.js';
import { listenMetrics, type MetricsListener } from './metrics/metrics-listener.js';
import { isExposition, type PromMetricsOptions } from './metrics/prom-metrics.js';
import { randomUUID } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { startTracing, tracesUrl } from './tracing/otel-sdk.js';

export interface StartRelayOptions {
  host?: string;
  port?: number;
  /** Data folder (created with mode 0700): the SQLite file and a generated admin token live here. */
  dataDir?: string;
  /** Admin token; when absent, read from or generated into `<dataDir>/admin-token` (mode 0600). */
  adminToken?: string;
  limits?: Partial<RelayLimits>;
  logger?: boolean | Record<string, unknown>;
  /** Appends every audit event to this file as JSON lines (mode 0600); none when absent. */
  auditFile?: string;
  /**
   * Users, tokens and tunnel names in this Redis, shared by every node given it, instead of
   * SQLite in the data folder (which is then not used). Needs `clusterSecret` and `adminToken`.
   */
  redis?: RedisTarget;
  clusterSecret?: string;
  /** With `redis`: this node's id in the node registry (default: a random one per process). */
  nodeId?: string;
  /** With `redis`: how other nodes reach this one; required when listening on every interface. */
  advertise?: string;
  /** The version this node reports in the node registry. */
  version?: string;
  /**
   * The audit log's keys file (created, mode 0600, when missing). Default: audit-keys.json in the
   * data folder. On Redis there is no default: give every node the same file to keep the signed
   * log; without one a cluster node keeps none.
   */
  auditKeys?: string;
  /** How often a checkpoint of the audit log is signed when it grew (default 60 s). */
  auditCheckpointMs?: number;
  /** Refuse requests and stream opens while the audit log cannot be written. */
  auditFailClosed?: boolean;
  /** Retention of audit records in ms: older ones are archived and pruned. Default: kept for ever. */
  auditRetentionMs?: number;
  /** Where pruned records are archived (JSONL files). Default DIR/audit-archive; required on Redis with a retention. */
  auditArchive?: string;
  /** SIEMs the audit log is forwarded to (docs/audit.md); a `caFile` is read into `ca`. */
  auditSinks?: readonly (AuditSinkConfig & { caFile?: string })[];
  /** `off`, or a JSON file of rate limit rules over the defaults (docs/rate-limits.md). */
  rateLimits?: string;
  /** Rate limits counted and logged, not enforced. */
  rateLimitShadow?: boolean;
  /**
   * Also serve GET /metrics WITHOUT authentication on this port of `metricsHost` (default
   * 127.0.0.1): an admin-only listener for scrapers (docs/metrics.md). None when absent.
   */
  metricsPort?: number;
  metricsHost?: string;
  /** Options of the prom-client metrics (label-set cap per metric…). */
  metricsOptions?: PromMetricsOptions;
  /** Count stream opens and bytes per tunnel name too, for at most this many tunnels. */
  metricsTunnelLabels?: number;
  /** How long usage roll-ups are kept per resolution, ms (docs/analytics.md); the defaults for those not given. */
  analyticsRetention?: { minute?: number; hour?: number; day?: number };
  /** Send spans to this OTLP/HTTP collector (docs/tracing.md); else OTEL_EXPORTER_OTLP_ENDPOINT; else off. */
  otlp?: string;
  /** The HTTP ingress (docs/http.md): tunnels shared with --http at NAME.DOMAIN. */
  publicDomain?: string;
  /** PEM files: listen with TLS (h2 and http/1.1 by ALPN). Both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** The HTTP ingress's cache, bytes per node in all (default 256 MiB). */
  httpCacheBytes?: number;
}

/** The PEM files of --tls-cert/--tls-key, read and checked (a coded error names what is wrong). */
function readTls(options: StartRelayOptions): { cert: Buffer; key: Buffer } | undefined {
  if (options.tlsCert === undefined && options.tlsKey === undefined) return undefined;
  if (options.tlsCert === undefined || options.tlsKey === undefined) throw createError(ErrorCode.INVALID_CONFIG, 'TLS needs both --tls-cert FILE and --tls-key FILE');
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw createError(ErrorCode.INVALID_CONFIG, `cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const tls = { cert: read(options.tlsCert, 'certificate'), key: read(options.tlsKey, 'key') };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw createError(ErrorCode.INVALID_CONFIG, `the TLS certificate and key do not make a usable pair (${(err as Error).message}); give PEM files, the key unencrypted`);
  }
  return tls;
}

/** A public domain as the ingress takes it: a host name, lower case, no scheme, port or dots at the ends. */
function checkPublicDomain(domain: string | undefined): string | undefined {
  if (domain === undefined) return undefined;
  const d = domain.trim().toLowerCase().replace(/^\.+|\.+$/g, '');
  if (!/^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(d)) {
    throw createError(ErrorCode.INVALID_CONFIG, `--public-domain must be a host name such as tunnels.example.com or localhost, got ${JSON.stringify(domain.slice(0, 80))}`);
  }
  return d;
}

export interface RunningRelay extends RelayApp {
  /** http://host:port of the relay. */
  url: string;
  /** Where the admin token is stored, when it came from the data folder. */
  adminTokenFile: string | undefined;
  adminTokenGenerated: boolean;
  /** Where audit events go, when an audit file was asked for. */
  auditFile: string | undefined;
  /** The Redis the store is in (password left out), when the relay is a cluster node. */
  redis: string | undefined;
  /** The signed audit log's keys file, and whether it was just created; undefined without one. */
  auditKeys: { file: string; created: boolean } | undefined;
  /** The SIEM sinks the audit log is forwarded to, by name (`syslog:tls://h:p`, `hec:URL`). */
  auditSinks: string[];
  /** http://host:port/metrics of the unauthenticated metrics listener, when one was asked for. */
  metricsUrl: string | undefined;
  /** Where spans go, when tracing is on. */
  tracesUrl: string | undefined;
}

/**
 * Creates `dir` (and its missing parents) one level at a time with mode 0700. Node's recursive
 * mkdir loops for ever on some paths (a folder under /proc), so this walks the path itself.
 */
function makeDataDir(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing) mkdirSync(folder, { mode: 0o700 });
  if (!statSync(dir).isDirectory()) throw new Error('it exists and is not a folder');
}

/**
 * The data folder holds the admin token and the database: only its owner may read it. A folder
 * or file with wider permissions is narrowed (0700 / 0600); one that cannot be is refused.
 */
function makePrivate(path: string, mode: 0o700 | 0o600): void {
  if (!existsSync(path)) return;
  const current = statSync(path).mode & 0o777;
  if (current === mode) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    throw createError(ErrorCode.INVALID_CONFIG, `${path} has mode ${current.toString(8).padStart(4, '0')} and cannot be made private (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): fix its owner or permissions, or choose another --data folder`);
  }
}

/**
 * Narrows the data folder to 0700 when it is Tether's (empty, or holding its files); a folder
 * that others may read and that holds other things (say /tmp) is refused, never chmod-ed.
 */
function privateDataDir(dir: string): void {
  const mode = statSync(dir).mode & 0o777;
  if (mode === 0o700) return;
  const entries = readdirSync(dir);
  const ours = entries.every((e) => e === 'admin-token' || e.startsWith('tether.db') || e.startsWith('audit'));
  if (!ours) {
    throw createError(ErrorCode.INVALID_CONFIG, `data folder ${dir} has mode ${mode.toString(8).padStart(4, '0')} and holds other files: give the relay a folder of its own with --data (it is created with mode 0700)`);
  }
  makePrivate(dir, 0o700);
}

/** Admin token from the option, else from the data folder, else a new one saved there. */
export function resolveAdminToken(dataDir: string, given: string | undefined): { token: string; file: string | undefined; generated: boolean } {
  if (given !== undefined) {
    if (given.length < 16) throw createError(ErrorCode.INVALID_CONFIG, 'the admin token must be at least 16 characters');
    return { token: given, file: undefined, generated: false };
  }
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) {
    makePrivate(file, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw createError(ErrorCode.INVALID_CONFIG, `${file} does not hold a valid admin token`);
    return { token, file, generated: false };
  }
  const token = generateToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, generated: true };
}

/**
 * Where the relay keeps its state: SQLite in the data folder, or (a cluster node) Redis. With
 * Redis every node must accept the same admin token, so it is never generated into one node's
 * data folder: it must be given (--admin-token or TETHER_ADMIN_TOKEN, the same on every node).
 */
function prepareState(options: StartRelayOptions): { databaseFile: string | undefined; admin: ReturnType<typeof resolveAdminToken>; auditKeysFile: string | undefined } {
  if (resolveCluster(options)) {
    if (options.adminToken === undefined || options.adminToken === '') {
      throw createError(ErrorCode.INVALID_CONFIG, 'a relay on Redis needs the admin token given with --admin-token or TETHER_ADMIN_TOKEN, the same on every node (one generated into a data folder would be that node\'s alone)');
    }
    return { databaseFile: undefined, admin: resolveAdminToken('', options.adminToken), auditKeysFile: options.auditKeys ? resolve(options.auditKeys) : undefined };
  }
  const dataDir = resolve(options.dataDir ?? 'tether-data');
  try {
    makeDataDir(dataDir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw createError(ErrorCode.INVALID_CONFIG, `cannot create data folder ${dataDir}: ${e.code ?? e.message}; choose a folder you can write with --data`);
  }
  privateDataDir(dataDir);
  const databaseFile = join(dataDir, 'tether.db');
  // SQLite creates its -wal and -shm files with the database file's mode: create it 0600 first.
  if (!existsSync(databaseFile)) closeSync(openSync(databaseFile, 'a', 0o600));
  for (const file of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`]) makePrivate(file, 0o600);
  const auditKeysFile = options.auditKeys ? resolve(options.auditKeys) : join(dataDir, 'audit-keys.json');
  return { databaseFile, admin: resolveAdminToken(dataDir, options.adminToken), auditKeysFile };
}

/** A node id as given (letters, digits, '.', '_', '-'; 1-64 characters), or undefined for a random one. */
function checkNodeId(id: string | undefined): string | undefined {
  if (id === undefined || id === '') return undefined;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw createError(ErrorCode.INVALID_CONFIG, `--node-id takes 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(id)}`);
  return id;
}

/** The sinks with their CA files read; INVALID_CONFIG naming the file that cannot be. */
function readSinkCas(sinks: StartRelayOptions['auditSinks']): AuditSinkConfig[] {
  return (sinks ?? []).map(({ caFile, ...sink }) => {
    if (caFile === undefined) return sink;
    try {
      return { ...sink, ca: readFileSync(resolve(caFile), 'utf8') };
    } catch (err) {
      const flag = sink.kind === 'hec' ? '--audit-hec-ca' : '--audit-syslog-ca';
      throw createError(ErrorCode.INVALID_CONFIG, `cannot read ${flag} ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; give the PEM file of the CA that signed the collector's certificate`);
    }
  });
}

/** The metrics listener of `relay`, which must run on the default (prom-client) metrics. */
function listenMetricsOf(relay: RelayApp, host: string, port: number): Promise<MetricsListener> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw createError(ErrorCode.INVALID_CONFIG, `--metrics-port must be 0-65535, got ${port}`);
  const metrics = relay.ports.metrics;
  if (!isExposition(metrics)) throw createError(ErrorCode.INVALID_CONFIG, 'the metrics listener needs the default metrics (an injected metrics port cannot be scraped)');
  return listenMetrics(metrics, host, port);
}

/** Starts a relay on the embedded store (or on Redis, as a cluster node) and listens. */
export async function startRelay(options: StartRelayOptions = {}): Promise<RunningRelay> {
  // A bad limit or cluster setting is refused before anything is created on disk.
  resolveLimits(options.limits);
  const tunnelLabels = options.metricsTunnelLabels;
  if (tunnelLabels !== undefined && (!Number.isInteger(tunnelLabels) || tunnelLabels < 0 || tunnelLabels > 10_000)) {
    throw createError(ErrorCode.INVALID_CONFIG, `--metrics-tunnel-labels takes 0 to 10000 tunnels, got ${tunnelLabels}`);
  }
  // Traced, the node id is fixed here: it is a resource attribute of every span.
  const traced = tracesUrl(options.otlp) !== undefined;
  const nodeId = checkNodeId(options.nodeId) ?? (traced ? `node-${randomUUID()}` : undefined);
  const auditSinks = readSinkCas(options.auditSinks);
  checkSinks(auditSinks);
  if (options.redis && options.advertise === undefined && WILDCARD_HOSTS.has(options.host ?? '127.0.0.1')) {
    throw createError(ErrorCode.INVALID_CONFIG, `a relay on Redis listening on every interface (--host ${options.host}) needs --advertise URL (or TETHER_ADVERTISE_URL): the address other nodes reach it at, e.g. http://10.0.0.5:8080`);
  }
  const { databaseFile, admin, auditKeysFile } = prepareState(options);
  if (options.auditFailClosed && auditKeysFile === undefined) {
    throw createError(ErrorCode.INVALID_CONFIG, '--audit-fail-closed needs the signed audit log: on Redis, give every node the same --audit-keys FILE');
  }
  const archiveDir = options.auditArchive ? resolve(options.auditArchive) : databaseFile ? join(dirname(databaseFile), 'audit-archive') : undefined;
  if (options.auditRetentionMs !== undefined && archiveDir === undefined) {
    throw createError(ErrorCode.INVALID_CONFIG, '--audit-retention on Redis needs --audit-archive DIR: pruned records are archived there first (give it to one node)');
  }
  if (auditSinks.length > 0 && auditKeysFile === undefined) {
    throw createError(ErrorCode.INVALID_CONFIG, 'SIEM forwarding (--audit-syslog, --audit-hec) needs the signed audit log: on Redis, give every node the same --audit-keys FILE');
  }
  const tls = readTls(options);
  const publicDomain = checkPublicDomain(options.publicDomain);
  const keys = auditKeysFile === undefined ? undefined : loadOrCreateAuditKeyring(auditKeysFile);
  const auditFile = options.auditFile === undefined ? undefined : resolve(options.auditFile);
  // Built here and closed by the app after its last event (closeAudit).
  const audit = auditFile === undefined ? undefined : new JsonLinesAuditSink(auditFile, (err) => relay.app.log.error({ err, auditFile }, 'audit file unwritable: audit events are dropped'));
  const rateLimits = loadRateLimits(options.rateLimits);
  const tracing = traced ? await startTracing({ otlp: options.otlp, serviceName: 'tether-relay', attributes: { 'tether.node.id': nodeId ?? '' }, version: options.version }) : undefined;
  const relay = await buildApp({
    tls,
    publicDomain,
    httpCacheBytes: options.httpCacheBytes,
    tracer: tracing?.tracer,
    rateLimits,
    rateLimitShadow: options.rateLimitShadow,
    databaseFile,
    adminToken: admin.token,
    limits: options.limits,
    logger: options.logger ?? true,
    audit,
    closeAudit: true,
    redis: options.redis,
    clusterSecret: options.clusterSecret,
    nodeId,
    advertise: options.advertise,
    version: options.version,
    auditLog: keys && {
      keys: keys.ring,
      checkpointIntervalMs: options.auditCheckpointMs,
      failClosed: options.auditFailClosed,
      retentionMs: options.auditRetentionMs,
      archive: archiveDir === undefined ? undefined : archiveToFolder(archiveDir),
    },
    auditSinks,
    metricsOptions: options.metricsOptions,
    metricsTunnelLabels: options.metricsTunnelLabels,
    analytics: { retention: options.analyticsRetention },
  }).catch(async (err: unknown) => {
    await tracing?.shutdown();
    throw err;
  });
  // The spans of the last streams, ended as the app closes, are sent before it is closed.
  if (tracing) relay.app.addHook('onClose', () => tracing.shutdown());
  const host = options.host ?? '127.0.0.1';
  let metricsListener: MetricsListener | undefined;
  if (options.metricsPort !== undefined) {
    try {
      // Closed with the app: the hook is added before it starts (Fastify refuses hooks after).
      metricsListener = await listenMetricsOf(relay, options.metricsHost ?? '127.0.0.1', options.metricsPort);
      const listener = metricsListener;
      relay.app.addHook('onClose', () => listener.close());
    } catch (err) {
      await relay.app.close();
      throw err;
    }
  }
  try {
    await relay.app.listen({ host, port: options.port ?? 8080 });
  } catch (err) {
    await relay.app.close();
    const e = err as NodeJS.ErrnoException;
    const port = options.port ?? 8080;
    if (e.code === 'EADDRINUSE') throw createError(ErrorCode.ADDRESS_IN_USE, `port ${port} on ${host} is already in use: stop the other process or pass --port`);
    throw createError(ErrorCode.INVALID_CONFIG, `cannot listen on ${host}:${port}: ${e.code ?? e.message}`);
  }
  try {
    await relay.joined();
  } catch (err) {
    await relay.app.close();
    throw err;
  }
  const address = relay.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 8080;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { ...relay, url: `${tls ? 'https' : 'http'}://${shownHost}:${port}`, adminTokenFile: admin.file, adminTokenGenerated: admin.generated, auditFile, redis: options.redis && describeTarget(options.redis), auditKeys: keys && auditKeysFile ? { file: auditKeysFile, created: keys.created } : undefined, auditSinks: auditSinks.map(sinkName), metricsUrl: metricsListener?.url, tracesUrl: tracing?.url };
}
