import type { FastifyPluginAsync } from 'fastify';
import type { Policy } from '../policy/policy.js';
import type { Store } from '../ports/store.js';
import type { Router } from '../routing/router.js';
import type { SinkStatus } from '../audit/siem/siem-forwarder.js';

/**
 * Liveness and readiness: /healthz answers while the process runs, /readyz while it accepts work.
 * The relay's counts (hosts, connectors, streams, bytes) are the admin's: /readyz adds them only
 * for a request that carries the admin token, and with them how far behind each SIEM sink of the
 * audit log is: a detail, never a reason to leave rotation (a SIEM that is down does not stop
 * the relay from working, its records wait in the log).
 */
export const healthRoutes: FastifyPluginAsync<{ router: Router; store: Store; policy: Policy; auditSinks?: () => SinkStatus[] }> = async (app, { router, store, policy, auditSinks }) => {
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
    const isAdmin = identity !== undefined && (await policy.authorize(identity, 'relay.stats', { kind: 'relay' })).allow;
    const sinks = isAdmin ? (auditSinks?.() ?? []) : [];
    const counts = isAdmin ? { ...stats, ...(sinks.length > 0 && { audit: { sinks: sinks.map(({ name, lag, connected, lastError, standby }) => ({ name, lag, connected, lastError, ...(standby && { standby }) })) } }) } : {};
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', database, ...counts });
  });
};
