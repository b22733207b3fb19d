import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import websocket from '@fastify/websocket';
import { ErrorCode, MAX_FRAME_SIZE_HEADER, SUBPROTOCOL, TetherError } from '@tether/shared';
import { authPlugin } from './auth.js';
import { resolveLimits, type RelayLimits, type RelayOptions } from './config.js';
import { statusFor } from './http-errors.js';
import { Router } from './router.js';
import { healthRoutes } from './routes/health.js';
import { tunnelRoutes } from './routes/tunnels.js';
import { tunnelSocketRoutes } from './routes/tunnel-ws.js';
import { userRoutes } from './routes/users.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export interface RelayApp {
  app: FastifyInstance;
  router: Router;
  store: Store;
  limits: RelayLimits;
  /** GOAWAY to every link, wait for streams to drain (bounded), then close the app. */
  shutdown(): Promise<void>;
}

/** Builds the relay without listening, so tests can inject requests or listen on port 0. */
export async function buildApp(options: RelayOptions): Promise<RelayApp> {
  const limits = resolveLimits(options.limits);
  const store = new SqliteStore(options.databaseFile);
  const app = Fastify({
    logger: options.logger ?? false,
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
  const router = new Router(store, limits, app.log);

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
  await app.register(authPlugin, { store, adminToken: options.adminToken });
  await app.register(healthRoutes, { router, store });
  await app.register(userRoutes, { store, router });
  await app.register(tunnelRoutes, { store, router });
  await app.register(tunnelSocketRoutes, { store, router });

  app.addHook('onClose', async () => {
    router.close();
    store.close();
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
  return { app, router, store, limits, shutdown };
}
