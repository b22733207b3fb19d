import type { FastifyPluginAsync } from 'fastify';
import type { Policy } from '../policy/policy.js';
import type { Store } from '../ports/store.js';
import type { Router } from '../routing/router.js';

/**
 * Liveness and readiness: /healthz answers while the process runs, /readyz while it accepts work.
 * The relay's counts (hosts, connectors, streams, bytes) are the admin's: /readyz adds them only
 * for a request that carries the admin token.
 */
export const healthRoutes: FastifyPluginAsync<{ router: Router; store: Store; policy: Policy }> = async (app, { router, store, policy }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    const stats = router.stats();
    let database = 'ok';
    try {
      await store.ping();
    } catch {
      database = 'unavailable';
    }
    const ready = !stats.draining && database === 'ok';
    const identity = await app.identify(request).catch(() => undefined);
    const counts = identity && (await policy.authorize(identity, 'relay.stats', { kind: 'relay' })).allow ? stats : {};
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', database, ...counts });
  });
};
