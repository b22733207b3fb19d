import { hostname } from 'node:os';
import { RELAY_NODE_FLAGS, startRelay, type StartRelayOptions } from '@tether/relay';
import { parseByteSize } from '@tether/shared';
import { analyticsSettings } from './analytics-settings.js';
import { parseDuration } from './duration.js';
import { LOG_FORMATS, LOG_LEVELS } from './flags.js';
import { info, UsageError } from './output.js';
import { version } from '../core/client-version.js';
import { tuneMalloc } from './malloc-tuning.js';

/** The flags of `tether relay`, as given (unset ones fall back to TETHER_* variables, then defaults). */
export interface RelayValues {
  host?: string;
  port?: string;
  data?: string;
  'admin-token'?: string;
  'log-level'?: string;
  'log-format'?: string;
  'audit-file'?: string;
  'audit-keys'?: string;
  'audit-fail-closed'?: boolean;
  'audit-retention'?: string;
  'audit-archive'?: string;
  'audit-syslog'?: string;
  'audit-syslog-format'?: string;
  'audit-syslog-ca'?: string;
  'audit-hec'?: string;
  'rate-limits'?: string;
  'rate-limit-shadow'?: boolean;
  'audit-hec-token'?: string;
  'audit-hec-ca'?: string;
  'audit-hec-index'?: string;
  limit?: string[];
  redis?: string;
  'redis-cluster'?: string;
  'cluster-secret'?: string;
  'node-id'?: string;
  advertise?: string;
  'metrics-host'?: string;
  'metrics-port'?: string;
  'metrics-tunnel-labels'?: string;
  'analytics-retention'?: string;
  otlp?: string;
  'public-domain'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'http-cache'?: string;
}

/** --public-domain, --tls-cert/--tls-key and --http-cache (or their variables): the HTTP ingress and TLS. */
export function ingressSettings(values: RelayValues, env: NodeJS.ProcessEnv = process.env): Pick<StartRelayOptions, 'publicDomain' | 'tlsCert' | 'tlsKey' | 'httpCacheBytes'> {
  const cache = values['http-cache'] ?? (env.TETHER_HTTP_CACHE || undefined);
  let httpCacheBytes: number | undefined;
  if (cache !== undefined) {
    try {
      httpCacheBytes = parseByteSize(cache, '--http-cache');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return {
    publicDomain: values['public-domain'] ?? (env.TETHER_PUBLIC_DOMAIN || undefined),
    tlsCert: values['tls-cert'] ?? (env.TETHER_TLS_CERT || undefined),
    tlsKey: values['tls-key'] ?? (env.TETHER_TLS_KEY || undefined),
    httpCacheBytes,
  };
}

/**
 * Where the relay's state is shared, from --redis / --redis-cluster or, when neither flag is
 * given, TETHER_REDIS_URL / TETHER_REDIS_CLUSTER: a standalone URL, or Redis Cluster seed URLs.
 */
export function redisTarget(values: RelayValues, env: NodeJS.ProcessEnv = process.env): { url: string } | { clusterUrls: string[] } | undefined {
  const fromFlags = values.redis !== undefined || values['redis-cluster'] !== undefined;
  const url = fromFlags ? values.redis : env.TETHER_REDIS_URL || undefined;
  const cluster = fromFlags ? values['redis-cluster'] : env.TETHER_REDIS_CLUSTER || undefined;
  if (url !== undefined && cluster !== undefined) throw new UsageError('give --redis (one Redis server) or --redis-cluster (Redis Cluster seed nodes), not both');
  if (url !== undefined) return { url };
  if (cluster !== undefined) return { clusterUrls: cluster.split(',').map((u) => u.trim()).filter((u) => u !== '') };
  return undefined;
}

/**
 * The SIEM sinks from --audit-syslog / --audit-hec (or TETHER_AUDIT_SYSLOG / TETHER_AUDIT_HEC and
 * their companions). The relay checks the URLs and the format (INVALID_CONFIG with a sentence).
 */
export function auditSinks(values: RelayValues, env: NodeJS.ProcessEnv = process.env): NonNullable<StartRelayOptions['auditSinks']> {
  const pick = (flag: keyof RelayValues, name: string): string | undefined => (values[flag] as string | undefined) ?? (env[name] || undefined);
  const sinks: NonNullable<StartRelayOptions['auditSinks']>[number][] = [];
  const syslog = pick('audit-syslog', 'TETHER_AUDIT_SYSLOG');
  const format = pick('audit-syslog-format', 'TETHER_AUDIT_SYSLOG_FORMAT');
  const syslogCa = pick('audit-syslog-ca', 'TETHER_AUDIT_SYSLOG_CA');
  if (syslog !== undefined) sinks.push({ kind: 'syslog', url: syslog, format: format as 'rfc5424' | 'cef' | undefined, caFile: syslogCa });
  else if (format !== undefined || syslogCa !== undefined) throw new UsageError('--audit-syslog-format and --audit-syslog-ca go with --audit-syslog tcp://HOST:PORT|tls://HOST:PORT');
  const hec = pick('audit-hec', 'TETHER_AUDIT_HEC');
  const token = pick('audit-hec-token', 'TETHER_AUDIT_HEC_TOKEN');
  const hecCa = pick('audit-hec-ca', 'TETHER_AUDIT_HEC_CA');
  const index = pick('audit-hec-index', 'TETHER_AUDIT_HEC_INDEX');
  if (hec !== undefined) sinks.push({ kind: 'hec', url: hec, token: token ?? '', caFile: hecCa, index });
  else if (values['audit-hec-token'] !== undefined || hecCa !== undefined || index !== undefined) throw new UsageError('--audit-hec-token, --audit-hec-ca and --audit-hec-index go with --audit-hec URL');
  return sinks;
}

/** Addresses that mean "every interface": fine to listen on, useless to connect to. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * The URL a client uses: the listening URL, except that a relay listening on every interface is
 * reached as 127.0.0.1 from this machine and by this machine's name from others.
 */
export function clientUrls(host: string, url: string): { local: string; remote?: string } {
  if (!WILDCARDS.has(host)) return { local: url };
  const port = new URL(url).port;
  return { local: `http://127.0.0.1:${port}`, remote: `http://${hostname()}:${port}` };
}

/**
 * Where the relay's logs go: pino's JSON lines on stderr, or (`pretty`) one readable line each,
 * so that the URL and admin-token lines stay visible on a terminal.
 */
async function logStream(format: string): Promise<NodeJS.WritableStream> {
  if (format === 'json') return process.stderr;
  const { default: pretty } = await import('pino-pretty');
  // sync: the lines interleave with this command's own stderr lines in the order written.
  return pretty({ destination: 2, sync: true, singleLine: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/** `tether relay`: runs until SIGINT/SIGTERM, then sends GOAWAY and drains. */
/**
 * The metrics flags (docs/metrics.md), else TETHER_METRICS_PORT / _HOST / _TUNNEL_LABELS: the
 * unauthenticated admin listener's port and host, and the per-tunnel label cap.
 */
export function metricsSettings(values: RelayValues, env: NodeJS.ProcessEnv = process.env): Pick<StartRelayOptions, 'metricsPort' | 'metricsHost' | 'metricsTunnelLabels'> {
  const port = values['metrics-port'] ?? (env.TETHER_METRICS_PORT || undefined);
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) throw new UsageError(`--metrics-port must be 0-65535, got ${JSON.stringify(port)}`);
  const labels = values['metrics-tunnel-labels'] ?? (env.TETHER_METRICS_TUNNEL_LABELS || undefined);
  if (labels !== undefined && (!/^\d{1,5}$/.test(labels) || Number(labels) > 10_000)) throw new UsageError(`--metrics-tunnel-labels takes a number of tunnels from 0 (off) to 10000, got ${JSON.stringify(labels)}`);
  const host = values['metrics-host'] ?? (env.TETHER_METRICS_HOST || undefined);
  if (host !== undefined && port === undefined) throw new UsageError('--metrics-host needs --metrics-port (or TETHER_METRICS_PORT): the address of that listener');
  return { metricsPort: port === undefined ? undefined : Number(port), metricsHost: host, metricsTunnelLabels: labels === undefined ? undefined : Number(labels) };
}

export async function relayCommand(values: RelayValues): Promise<void> {
  const port = values.port === undefined ? Number(process.env.TETHER_PORT ?? 8080) : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${values.port}`);
  await tuneMalloc();
  const level = values['log-level'] ?? process.env.TETHER_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const format = values['log-format'] ?? process.env.TETHER_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const limits: Record<string, number> = {};
  for (const spec of values.limit ?? []) {
    const match = /^([A-Za-z]+)=(\d+)$/.exec(spec);
    if (!match) throw new UsageError(`--limit takes NAME=INTEGER (e.g. --limit maxLinksPerUser=100), got ${JSON.stringify(spec)}`);
    limits[match[1]] = Number(match[2]);
  }
  const host = values.host ?? process.env.TETHER_HOST ?? '127.0.0.1';
  const retention = values['audit-retention'] ?? (process.env.TETHER_AUDIT_RETENTION || undefined);
  const relay = await startRelay({
    limits,
    host,
    port,
    dataDir: values.data ?? process.env.TETHER_DATA,
    adminToken: values['admin-token'] ?? process.env.TETHER_ADMIN_TOKEN,
    auditFile: values['audit-file'] ?? process.env.TETHER_AUDIT_FILE,
    auditKeys: values['audit-keys'] ?? (process.env.TETHER_AUDIT_KEYS || undefined),
    auditRetentionMs: retention === undefined ? undefined : parseDuration(retention, '--audit-retention'),
    auditArchive: values['audit-archive'] ?? (process.env.TETHER_AUDIT_ARCHIVE || undefined),
    auditFailClosed: values['audit-fail-closed'] ?? ['1', 'true', 'yes'].includes((process.env.TETHER_AUDIT_FAIL_CLOSED ?? '').toLowerCase()),
    auditSinks: auditSinks(values),
    rateLimits: values['rate-limits'] ?? (process.env.TETHER_RATE_LIMITS || undefined),
    rateLimitShadow: values['rate-limit-shadow'] ?? ['1', 'true', 'yes'].includes((process.env.TETHER_RATE_LIMIT_SHADOW ?? '').toLowerCase()),
    redis: redisTarget(values),
    clusterSecret: values['cluster-secret'] ?? process.env.TETHER_CLUSTER_SECRET,
    nodeId: values['node-id'] ?? process.env.TETHER_NODE_ID,
    advertise: values.advertise ?? (process.env.TETHER_ADVERTISE_URL || undefined),
    version: version(),
    ...metricsSettings(values),
    ...analyticsSettings(values),
    ...ingressSettings(values),
    otlp: values.otlp,
    // Logs go to stderr: stdout carries only the URL line that scripts and tests read.
    logger: { level, stream: await logStream(format) },
  });
  // Before the URL line: whoever reads it may stop the relay at once, and it must drain then.
  let signals = 0;
  const onSignal = (signal: string): void => {
    if (++signals > 1) process.exit(130);
    info(`${signal}: draining (GOAWAY sent); press Ctrl-C again to exit now`);
    relay.shutdown().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const urls = clientUrls(host, relay.url);
  info(`Tether relay listening on ${relay.url}${urls.remote ? ' (every interface)' : ''}`);
  const missing = RELAY_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  if (missing.length > 0) {
    info(`Node was started without ${missing.join(' ')}: the relay then collects garbage far more often, for up to twice the CPU per GiB forwarded and half as much again under a steady load of many tunnels (docs/relay.md, "Node flags"; npm start and the container image give them)`);
  }
  if (relay.redis) info(`Users, tokens and tunnel names in Redis at ${relay.redis}, shared with the other nodes (docs/cluster.md); this node is ${relay.nodeId}`);
  if (relay.auditKeys) info(`Signed audit log in the ${relay.redis ? 'Redis store' : 'database'}; keys ${relay.auditKeys.created ? 'generated into' : 'read from'} ${relay.auditKeys.file} (mode 0600, keep a backup)`);
  else info('No signed audit log: a relay on Redis keeps one when every node is given the same --audit-keys FILE');
  for (const sink of relay.auditSinks) info(`Audit log forwarded to ${sink} (at least once, from a cursor kept in the ${relay.redis ? 'Redis store' : 'database'})`);
  if (relay.metricsUrl) info(`Metrics for scrapers at ${relay.metricsUrl} (no authentication: keep it on loopback or a monitoring network; docs/metrics.md)`);
  if (relay.tracesUrl) info(`Traces sent to ${relay.tracesUrl} (OTLP/HTTP; docs/tracing.md)`);
  if (relay.auditFile) info(`Audit events also appended to ${relay.auditFile} (JSON lines, mode 0600)`);
  if (relay.adminTokenFile) {
    info(`Admin token ${relay.adminTokenGenerated ? 'generated and saved' : 'read from'}: ${relay.adminTokenFile} (mode 0600)`);
    info(`  export TETHER_RELAY=${urls.local} TETHER_TOKEN=$(cat ${relay.adminTokenFile})`);
  } else {
    info('Admin token: the one given with --admin-token / TETHER_ADMIN_TOKEN');
  }
  if (urls.remote) info(`Clients on other machines use this machine's address, e.g. TETHER_RELAY=${urls.remote}`);
  // The line scripts and tests wait for, on stdout: a URL a client on this machine can use.
  process.stdout.write(`${urls.local}\n`);

  await new Promise<never>(() => undefined);
}
