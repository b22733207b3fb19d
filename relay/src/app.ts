import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import websocket from '@fastify/websocket';
import { ErrorCode, MAX_FRAME_SIZE_HEADER, SUBPROTOCOL, TetherError } from '@tether/shared';
import { randomUUID } from 'node:crypto';
import { Auditor } from './audit/auditor.js';
import { authPlugin } from './auth.js';
import { resolveLimits, type RelayLimits, type RelayOptions } from './config.js';
import { statusFor } from './http-errors.js';
import { Policy } from './policy/policy.js';
import type { RelayPorts } from './ports/index.js';
import type { Store } from './ports/store.js';
import { Router } from './routing/router.js';
import { healthRoutes } from './routes/health.js';
import { tunnelRoutes } from './routes/tunnels.js';
import { tunnelSocketRoutes } from './routes/tunnel-ws.js';
import { userRoutes } from './routes/users.js';
import { resolvePorts } from './single-node.js';

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

/**
 * The composition root: builds the relay on its ports (injected, or the single-node defaults)
 * without listening, so tests can inject requests or listen on port 0. Nothing below it
 * constructs its own I/O.
 */
export async function buildApp(options: RelayOptions): Promise<RelayApp> {
  const limits = resolveLimits(options.limits);
  const { ports, closeOwned } = resolvePorts(options, limits);
  const { store, registry, clock, metrics } = ports;
  const nodeId = options.nodeId ?? `node-${randomUUID()}`;
  const logging = isLoggerInstance(options.logger) ? { loggerInstance: options.logger } : { logger: options.logger ?? false };
  const app = Fastify({
    ...logging,
    // A client that never finishes its upgrade request is dropped after the handshake timeout.
    connectionTimeout: 0,
    requestTimeout: limits.handshakeTimeoutMs,
    bodyLimit: 64 * 1024,
    // Router-level errors (a malformed URL, a path parameter past maxParamLength) skip the error
    // handler: answer them with the same coded JSON as every other error. (The cast: the option's
    // generic reply type admits no status code.)
    frameworkErrors: (err, _request, reply) => {
      void (reply as FastifyReply).code(err.statusCode ?? 400).send({ code: ErrorCode.INVALID_ARGUMENT, message: err.message });
    },
  });
  app.server.headersTimeout = limits.handshakeTimeoutMs;
  const auditor = new Auditor(ports.audit, clock);
  const policy = new Policy(store, auditor);
  const router = new Router({ policy, store, registry, auditor, metrics, clock, limits, log: app.log, nodeId });

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof TetherError) {
      const status = statusFor(err.code);
      request.log.info({ code: err.code, status }, err.message);
      return reply.code(status).send({ code: err.code, message: err.message });
    }
    const e = err as { validation?: unknown; statusCode?: number; message?: string };
    if (e.validation) {
      return reply.code(400).send({ code: ErrorCode.INVALID_ARGUMENT, message: e.message });
    }
    if (e.statusCode && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ code: ErrorCode.INVALID_ARGUMENT, message: e.message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ code: ErrorCode.INTERNAL, message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: ErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

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
  await app.register(healthRoutes, { router, store });
  await app.register(userRoutes, { store, router, auditor });
  await app.register(tunnelRoutes, { policy, registry });
  await app.register(tunnelSocketRoutes, { policy, router });

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
