import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { MAX_FRAME_SIZE_HEADER, SUBPROTOCOL } from '@tether/shared';
import { randomUUID } from 'node:crypto';
import { Auditor } from './audit/auditor.js';
import { authPlugin } from './auth.js';
import { resolveCluster, resolveLimits, type RelayLimits, type RelayOptions } from './config.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './http-errors.js';
import { RateLimiter } from './limits/rate-limiter.js';
import { Policy } from './policy/policy.js';
import type { RelayPorts } from './ports/index.js';
import type { Store } from './ports/store.js';
import { Router } from './routing/router.js';
import { healthRoutes } from './routes/health.js';
import { tunnelRoutes } from './routes/tunnels.js';
import { tunnelSocketRoutes } from './routes/tunnel-ws.js';
import { userRoutes } from './routes/users.js';
import { openClusterStore, resolvePorts } from './single-node.js';

export interface RelayApp {
  app: FastifyInstance;
  router: Router;
  store: Store;
  /** Every port the relay runs on, as wired (defaults or injected). */
  ports: RelayPorts;
  /** The one place access is decided. */
  policy: Policy;
  limits: RelayLimits;
  nodeId: string;
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
  resolveCluster(options);
  const nodeId = options.nodeId ?? `node-${randomUUID()}`;
  const app = Fastify({
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
  let clusterStore: Store | undefined;
  try {
    clusterStore = await openClusterStore(options, app.log);
  } catch (err) {
    await app.close();
    throw err;
  }
  const { ports, closeOwned } = resolvePorts(options, limits, clusterStore);
  const { store, registry, clock, metrics } = ports;
  const auditor = new Auditor(ports.audit, clock);
  const policy = new Policy(store, auditor, { maxTunnelsPerUser: limits.maxTunnelsPerUser, clock });
  const router = new Router({ policy, store, registry, auditor, metrics, clock, limits, log: app.log, nodeId });

  installErrorHandlers(app);

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
  app.websocketServer.on('headers', (headers: string[]) => {
    headers.push(`${MAX_FRAME_SIZE_HEADER}: ${limits.maxFrameSize}`);
  });
  await app.register(authPlugin, { store, adminToken: options.adminToken, policy, auditor });
  await app.register(healthRoutes, { router, store, policy });
  await app.register(userRoutes, { store, router, auditor, policy });
  await app.register(tunnelRoutes, { policy, registry });
  await app.register(tunnelSocketRoutes, { policy, router, registrations: new RateLimiter<number>(limits.maxRegistrationsPerMinute, clock) });

  app.addHook('onClose', async () => {
    router.close();
    await closeOwned();
  });

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      app.log.info('shutting down: GOAWAY sent, draining streams');
      await router.drain();
      await app.close();
    })();
    return shuttingDown;
  };
  return { app, router, store, ports, policy, limits, nodeId, shutdown };
}
