import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../ports/store.js';
import type { Router } from '../routing/router.js';

/** Liveness and readiness: /healthz answers while the process runs, /readyz while it accepts work. */
export const healthRoutes: FastifyPluginAsync<{ router: Router; store: Store }> = async (app, { router, store }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const stats = router.stats();
    let database = 'ok';
    try {
      await store.ping();
    } catch {
      database = 'unavailable';
    }
    const ready = !stats.draining && database === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', database, ...stats });
  });
};
