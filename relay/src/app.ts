import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { MAX_FRAME_SIZE_HEADER, MAX_WINDOW_HEADER, NODE_HEADER, PUBLIC_URL_HEADER, SUBPROTOCOL } from '@tether/shared';
import { randomUUID } from 'node:crypto';
import { Auditor } from './audit/auditor.js';
import type { ChainedAuditLog } from './audit/chained-log.js';
import { auditRoutes } from './routes/audit.js';
import { buildForwarders } from './audit/siem/siem-sinks.js';
import type { SiemForwarder } from './audit/siem/siem-forwarder.js';
import { AuditEventCode } from './audit/event-codes.js';
import { createError, ErrorCode } from '@tether/shared';
import { authPlugin } from './auth.js';
import { adminPlugin } from './admin/admin-plugin.js';
import { checkAdvertise, resolveCluster, resolveLimits, type RelayLimits, type RelayOptions } from './config.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './http-errors.js';
import { buildRateLimits } from './limits/relay-rate-limits.js';
import { rateLimitPlugin } from './limits/rate-limit-plugin.js';
import { AdaptiveLimit } from './limits/adaptive-limit.js';
import { watchOverload } from './limits/overload-watch.js';
import { DEFAULT_ADAPTIVE_OPENS } from './config.js';
import { Policy } from './policy/policy.js';
import type { RelayPorts } from './ports/index.js';
import type { Store } from './ports/store.js';
import { Router } from './routing/router.js';
import { healthRoutes } from './routes/health.js';
import { isExposition } from './metrics/prom-metrics.js';
import { metricsRoutes } from './metrics/metrics-routes.js';
import { instrumentRedis } from './stores/redis/redis-metrics.js';
import { tunnelRoutes } from './routes/tunnels.js';
import { tunnelSocketRoutes } from './routes/tunnel-ws.js';
import { userRoutes } from './routes/users.js';
import { sharingRoutes } from './routes/sharing.js';
import { Sharing } from './policy/sharing.js';
import { openClusterStore, resolvePorts } from './single-node.js';
import { clusterRoutes } from './cluster/cluster-plugin.js';
import { localOnly, RedisInvalidations, type Invalidation, type InvalidationPublisher } from './cluster/invalidation.js';
import { NodeRegistry } from './cluster/node-registry.js';
import { PeerLinks } from './cluster/peer-links.js';
import { peerRoutes } from './cluster/peer-route.js';
import type { RedisStore } from './stores/redis/redis-store.js';
import { UsageRecorder } from './analytics/usage-recorder.js';
import { analyticsRoutes } from './routes/analytics.js';
import { DEFAULT_USAGE_RETENTION } from './ports/usage-store.js';
import { httpTracing } from './tracing/http-tracing.js';
import { OpenTracing } from './tracing/open-tracing.js';
import { FrontDoor } from './ingress/front-door.js';
import { httpCacheRoutes } from './routes/http-cache.js';
import { publicUrlOf } from './ingress/http/public-url.js';
import { buildIngress } from './ingress/http/build-ingress.js';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { NodeLoad } from './metrics/node-load.js';
import { LiveFeed } from './metrics/live-feed.js';
import { ClusterViews, type NodeSnapshot } from './cluster/cluster-views.js';
import { clusterViewRoutes } from './cluster/cluster-views-route.js';
import { holderViews, sessionViews } from './routing/router-views.js';
import { adminViewRoutes } from './routes/admin-views.js';
import { adminLiveRoutes } from './routes/admin-live.js';
import { tunnelDisableRoutes } from './routes/tunnel-disable.js';

export interface RelayApp {
  app: FastifyInstance;
  router: Router;
  store: Store;
  /** Every port the relay runs on, as wired (defaults or injected). */
  ports: RelayPorts;
  /** The signed audit log, when the relay keeps one. */
  auditLog: ChainedAuditLog | undefined;
  /** The one place access is decided. */
  policy: Policy;
  limits: RelayLimits;
  nodeId: string;
  /** With Redis: the cluster's node registry (this node heartbeats into it once listening). */
  nodes: NodeRegistry | undefined;
  /**
   * Resolves once this node is in the cluster's registry (at once for a single relay, and
   * before listening); rejects with INVALID_CONFIG when a live node at another address already
   * uses this node id. `startRelay` awaits it after listening and gives up on a rejection.
   */
  joined(): Promise<void>;
  /** GOAWAY to every link, wait for streams to drain (bounded), then close the app. */
  shutdown(): Promise<void>;
}

const isLoggerInstance = (logger: RelayOptions['logger']): logger is FastifyBaseLogger =>
  typeof logger === 'object' && typeof (logger as { child?: unknown }).child === 'function';

const requestSerializer = (request: { method: string; url: string; ip?: string }) => ({
  method: request.method,
  path: request.url.split('?')[0],
  remoteAddress: request.ip,
});

/** pino options as given, with the request serializer that keeps query strings out of logs. */
function loggerOptions(logger: boolean | Record<string, unknown> | undefined): boolean | Record<string, unknown> {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  return { ...base, serializers: { req: requestSerializer, ...(base.serializers as object | undefined) } };
}

/**
 * The composition root: builds the relay on its ports (injected, or the single-node defaults)
 * without listening, so tests can inject requests or listen on port 0. Nothing below it
 * constructs its own I/O.
 */
export async function buildApp(options: RelayOptions): Promise<RelayApp> {
  const limits = resolveLimits(options.limits);
  // Refused before any connection is made: a Redis relay without its cluster secret.
  const cluster = resolveCluster(options);
  if (options.advertise !== undefined) checkAdvertise(options.advertise);
  const nodeId = options.nodeId ?? `node-${randomUUID()}`;
  // The listening server: a plain http.Server, or with TLS and/or the HTTP ingress the front
  // door (h2 by ALPN or preface, the ingress's hosts first).
  let frontDoor: FrontDoor | undefined;
  const serverFactory = options.tls || options.publicDomain
    ? { serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => (frontDoor = new FrontDoor(handler as never, { tls: options.tls, firstBytesTimeoutMs: limits.handshakeTimeoutMs })).server as Server }
    : {};
  const app = Fastify({
    ...serverFactory,
    ...(isLoggerInstance(options.logger) ? { loggerInstance: options.logger } : {}),
    // A client that never finishes its upgrade request is dropped after the handshake timeout.
    connectionTimeout: 0,
    requestTimeout: limits.handshakeTimeoutMs,
    bodyLimit: 64 * 1024,
    // Errors of Node's HTTP parser and of Fastify's router get the same coded JSON as the rest.
    clientErrorHandler,
    frameworkErrors,
    // Bodies are what they say: no coercion ({"name":12345} is not a name) and unknown fields
    // refused, not silently dropped (every body schema says additionalProperties: false).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Request logs carry the path only: query strings may hold names a user would not log.
    ...(isLoggerInstance(options.logger) ? {} : { logger: loggerOptions(options.logger) }),
  });
  app.server.headersTimeout = limits.handshakeTimeoutMs;
  let clusterStore: RedisStore | undefined;
  try {
    clusterStore = await openClusterStore(options, app.log);
  } catch (err) {
    await app.close();
    throw err;
  }
  const { ports, closeOwned, auditLog } = resolvePorts(options, limits, clusterStore, { nodeId, log: app.log });
  const { store, registry, clock, metrics } = ports;
  if (clusterStore) instrumentRedis(clusterStore.client, metrics);
  let forwarders: SiemForwarder[] = [];
  if (options.auditSinks && options.auditSinks.length > 0) {
    try {
      if (!auditLog) throw createError(ErrorCode.INVALID_CONFIG, 'SIEM forwarding (--audit-syslog, --audit-hec) needs the signed audit log: on Redis, give every node the same --audit-keys FILE');
      forwarders = buildForwarders(options.auditSinks, { log: auditLog, store: store.auditLog, metrics, version: options.version ?? 'unknown', logger: app.log, pollMs: options.auditSinkPollMs, leaseHolder: clusterStore ? nodeId : undefined });
    } catch (err) {
      await closeOwnedAfterFailure(app, closeOwned);
      throw err;
    }
  }
  const auditor = new Auditor(ports.audit, clock, options.auditLog?.keys.salt);
  const policy = new Policy(store, auditor, { maxTunnelsPerUser: limits.maxTunnelsPerUser, clock });
  const failClosed = auditLog && options.auditLog?.failClosed ? auditLog : undefined;
  let rates: ReturnType<typeof buildRateLimits>;
  try {
    rates = buildRateLimits(options.rateLimits, { limits, clock, client: clusterStore?.client, log: app.log });
  } catch (err) {
    await closeOwnedAfterFailure(app, closeOwned);
    throw err;
  }
  const shadow = options.rateLimitShadow === true;
  const adaptive = options.adaptiveOpens === false ? undefined : new AdaptiveLimit({ ...DEFAULT_ADAPTIVE_OPENS, shadow, ...options.adaptiveOpens });
  const usage = options.analytics === false ? undefined : new UsageRecorder({ store: store.usage, clock, nodeId, retention: { ...DEFAULT_USAGE_RETENTION, ...options.analytics?.retention }, flushMs: options.analytics?.flushMs, log: app.log });
  const router = new Router({ usage, policy, store, registry, auditor, metrics, clock, limits, log: app.log, nodeId, auditWritable: failClosed && (() => failClosed.writable), rateLimits: rates?.limits, rateLimitShadow: shadow, adaptive, shaper: shadow ? undefined : rates?.shaper, metricsTunnelLabels: options.metricsTunnelLabels, tracing: options.tracer && new OpenTracing(options.tracer, nodeId) });
  const stopOverloadWatch = adaptive ? watchOverload(adaptive, metrics) : () => undefined;

  installErrorHandlers(app);
  if (failClosed) {
    // Before any handler acts (upgrades included): what is queued must be written, and the log writable.
    app.addHook('preHandler', async (request) => {
      if (request.url.startsWith('/healthz') || request.url.startsWith('/readyz')) return;
      if (!(await failClosed.settle(2000))) {
        throw createError(ErrorCode.STORE_UNAVAILABLE, "the relay's audit log cannot be written and the relay is set to fail closed (--audit-fail-closed): nothing was done; try again shortly");
      }
    });
  }

  // Cluster (Redis): the node registry and invalidation over pub/sub. Only when the store is the
  // Redis one built here; an injected store (tests) runs as a single node.
  let nodes: NodeRegistry | undefined;
  /** The HTTP ingress's cache purge, once it is built (a purge may arrive from another node). */
  const cachePurge: { of?: (tunnel: string) => number } = {};
  let invalidations: InvalidationPublisher = localOnly;
  let subscriber: RedisInvalidations | undefined;
  let peers: PeerLinks | undefined;
  let joining: Promise<void> = Promise.resolve();
  const startedAt = new Date().toISOString();
  let advertise = options.advertise;
  if (clusterStore && cluster) {
    const client = clusterStore.client;
    nodes = new NodeRegistry(
      client,
      () => ({ id: nodeId, advertise: advertise ?? '', version: options.version ?? 'unknown', startedAt, links: router.linkCount(), streams: router.stats().streams }),
      app.log,
      { heartbeatMs: options.heartbeat?.intervalMs, ttlMs: options.heartbeat?.ttlMs },
    );
    const apply = (message: Invalidation): void => {
      if (message.kind === 'cache-purged') {
        cachePurge.of?.(message.tunnel);
        return;
      }
      if (message.kind === 'tunnel-disabled') {
        policy.forgetTunnel(message.name);
        if (message.disabled) router.disableTunnel(message.name, message.reason);
        return;
      }
      if (message.kind === 'tunnel-deleted') {
        policy.forgetTunnel(message.name);
        return;
      }
      if (message.kind === 'grant-changed') {
        policy.forgetGrant(message.tunnel, message.userId);
        router.recheckAccess(message.userId, message.tunnel, message.reason).catch((err: unknown) => app.log.warn({ err, tunnel: message.tunnel }, 'could not decide access again after a grant changed'));
        return;
      }
      if (message.deleted) policy.forgetUsers();
      const closed = router.disconnectIdentity(message.userId, message.reason);
      if (closed > 0) auditor.record(AuditEventCode.LINKS_REVOKED, null, 'users.manage', `user:${message.user}`, { reason: message.reason, detail: { closed, origin: message.origin } });
      app.log.info({ user: message.user, origin: message.origin, closed }, 'revocation from another node applied');
    };
    subscriber = new RedisInvalidations(client, nodeId, { apply, resubscribed: () => policy.forgetUsers() }, app.log);
    try {
      await subscriber.start();
    } catch (err) {
      await subscriber.close();
      await closeOwnedAfterFailure(app, closeOwned);
      throw createError(ErrorCode.STORE_UNAVAILABLE, `cannot subscribe to invalidations in Redis: ${(err as Error).message}`);
    }
    invalidations = subscriber;
    const registry = nodes;
    // Streams to tunnels held by other nodes go over peer links to them (docs/cluster.md).
    peers = new PeerLinks({
      selfId: nodeId,
      secret: cluster.clusterSecret,
      router,
      resolve: async (id) => (await registry.list()).find((n) => n.id === id)?.advertise || undefined,
      maxMessageSize: limits.maxMessageSize,
      log: app.log,
      metrics,
    });
    router.usePeers(peers);
    // The first heartbeat once the address is known; the advertise URL defaults to it.
    app.addHook('onListen', async () => {
      if (advertise === undefined) {
        const address = app.server.address();
        if (typeof address === 'object' && address) advertise = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      }
      joining = registry.start();
      // Fastify ignores an onListen hook's failure: joined() hands it to startRelay; logged here
      // too, for apps listened on directly (tests).
      await joining.catch((err: unknown) => app.log.error({ err: (err as Error).message }, 'this node did not join the cluster'));
    });
  }

  await app.register(websocket, {
    options: {
      maxPayload: limits.maxMessageSize,
      perMessageDeflate: false,
      // Payloads are SSH or other end-to-end protected bytes: UTF-8 checks and compression
      // would only cost CPU on the data path.
      skipUTF8Validation: true,
      handleProtocols: (protocols: Set<string>) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    },
  });
  app.websocketServer.on('headers', (headers: string[], request: IncomingMessage) => {
    headers.push(`${MAX_FRAME_SIZE_HEADER}: ${limits.maxFrameSize}`, `${MAX_WINDOW_HEADER}: ${limits.maxBufferedBytesPerStream}`, `${NODE_HEADER}: ${nodeId}`);
    const url = options.publicDomain ? publicUrlOf(request, options.publicDomain, options.tls !== undefined) : undefined;
    if (url) headers.push(`${PUBLIC_URL_HEADER}: ${url}`);
  });
  // First of the request hooks, so a request refused by authentication has its span too.
  if (options.tracer) await app.register(httpTracing, { tracer: options.tracer, nodeId });
  await app.register(authPlugin, { store, adminToken: options.adminToken, policy, auditor, invalidToken: rates && ((request) => rates.limits.signInFailed(request.ip)) });
  if (rates) await app.register(rateLimitPlugin, { limits: rates.limits, auditor, metrics, shadow });
  // The admin dashboard at /admin (docs/admin-dashboard.md): its sign-in session and its files.
  await app.register(adminPlugin, { store, adminToken: options.adminToken, auditor, limits: rates?.limits, shadow, secure: options.tls !== undefined, auditLog });
  await app.register(healthRoutes, { router, store, policy, auditSinks: () => forwarders.map((f) => f.status()) });
  await app.register(userRoutes, { store, router, auditor, policy, invalidations, nodeId });
  await app.register(tunnelRoutes, { policy, registry, invalidations, nodeId, nodes });
  const sharing = new Sharing({ store, policy, auditor, clock, invalidations, nodeId, recheck: (userId, tunnel, why) => router.recheckAccess(userId, tunnel, why) });
  await app.register(sharingRoutes, { sharing });
  await app.register(clusterRoutes, { nodes });
  await app.register(auditRoutes, { log: auditLog, version: options.version });
  await app.register(analyticsRoutes, { store: store.usage, policy, clock, nodeId, recorder: usage });
  if (isExposition(metrics)) await app.register(metricsRoutes, { exposition: metrics, policy });
  if (peers && cluster) await app.register(peerRoutes, { selfId: nodeId, secret: cluster.clusterSecret, router });
  await app.register(tunnelSocketRoutes, { policy, router, rateLimits: rates?.limits, shadow, auditor });
  // The relay admin's views (docs/admin-dashboard.md), over every node of a cluster.
  const load = new NodeLoad();
  const localSnapshot = (): NodeSnapshot => ({
    node: nodeId,
    version: options.version ?? 'unknown',
    startedAt,
    advertise: advertise ?? null,
    load: load.current(),
    stats: router.stats(),
    errorsByCode: Object.fromEntries(router.live.errorsByCode),
    sessions: sessionViews(router.linkList(), nodeId, clock.now(), clock.monotonic()),
    holders: holderViews(router.linkList(), nodeId),
  });
  const terminateLocal = (linkId: number, streamId: number, why: string): boolean => router.terminateStream(linkId, streamId, why);
  const views = new ClusterViews({ selfId: nodeId, local: localSnapshot, terminateLocal, cluster: nodes && cluster ? { nodes, secret: cluster.clusterSecret } : undefined, log: app.log });
  const feed = new LiveFeed({ node: nodeId, stats: () => router.stats(), tally: router.live });
  await app.register(adminViewRoutes, { policy, registry, views, auditor, nodeId, rates: rates?.limits, shadow });
  await app.register(adminLiveRoutes, { feed });
  await app.register(tunnelDisableRoutes, { store, policy, router, auditor, invalidations, nodeId });
  if (nodes && cluster) await app.register(clusterViewRoutes, { selfId: nodeId, secret: cluster.clusterSecret, local: localSnapshot, terminateLocal });
  app.addHook('onClose', async () => {
    feed.close();
    load.close();
  });
  // Last, once the WebSocket endpoints listen for upgrades: the ingress sees its hosts' requests first.
  const ingress = options.publicDomain && frontDoor
    ? buildIngress(frontDoor, { limits: rates?.limits, domain: options.publicDomain, router, policy, store, registry, adminToken: options.adminToken, metrics, log: app.log, secure: options.tls !== undefined, cacheBytes: options.httpCacheBytes })
    : undefined;
  // TLS without an ingress: h2 by ALPN for the relay's own routes.
  if (!ingress) frontDoor?.use();
  const door = frontDoor;
  // The server's close waits for every socket: HTTP/2 sessions are told to go first.
  if (door) app.addHook('preClose', async () => door.closeSessions());
  cachePurge.of = ingress && ((tunnel: string) => ingress.purge(tunnel));
  await app.register(httpCacheRoutes, { policy, purge: cachePurge.of, invalidations, nodeId });
  if (ingress) {
    // Uploads and downloads of any length: only the header section has a deadline.
    app.server.requestTimeout = 0;
    app.addHook('onClose', async () => ingress.close());
  }

  // The relay's own start and stop are audited, with the settings it runs with (limits changed
  // from their defaults), so a configuration change shows in the log.
  const self = { id: -2, name: `node:${nodeId}`, admin: false };
  const defaults = resolveLimits(undefined);
  const changed = Object.fromEntries(Object.entries(limits).filter(([k, v]) => defaults[k as keyof RelayLimits] !== v).map(([k, v]) => [`limit.${k}`, v as number]));
  app.addHook('onReady', async () => {
    auditor.record(AuditEventCode.RELAY_STARTED, self, 'relay.start', 'relay', { detail: { version: options.version ?? 'unknown', store: clusterStore ? 'redis' : 'sqlite', ...changed } });
    for (const forwarder of forwarders) forwarder.start();
  });
  app.addHook('onClose', async () => {
    auditor.flushBursts();
    auditor.record(AuditEventCode.RELAY_STOPPED, self, 'relay.stop', 'relay');
    // Leaves the registry at once (others stop listing it), before the store's client closes.
    await nodes?.stop();
    await subscriber?.close();
    router.close();
    // Before the store closes, the sinks get up to 2 s to catch up (relay.stopped included);
    // whatever is left is sent from the cursor at the next start.
    if (forwarders.length > 0) {
      await auditLog?.flush();
      await Promise.all(forwarders.map((f) => f.stop(2000)));
    }
    stopOverloadWatch();
    // The last batch of usage, before the store closes.
    await usage?.close().catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'the last usage analytics were not written'));
    await rates?.store.close();
    await closeOwned();
  });

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      app.log.info('shutting down: GOAWAY sent, draining streams');
      peers?.close();
      await router.drain();
      await app.close();
    })();
    return shuttingDown;
  };
  return { app, router, store, ports, auditLog, policy, limits, nodeId, nodes, shutdown, joined: () => joining };
}

/** A build that failed after the ports were made: close the app and them. */
async function closeOwnedAfterFailure(app: FastifyInstance, closeOwned: () => Promise<void>): Promise<void> {
  await app.close();
  await closeOwned();
}
