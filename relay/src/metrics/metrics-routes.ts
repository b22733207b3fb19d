import type { FastifyPluginAsync } from 'fastify';
import type { Policy } from '../policy/policy.js';
import { refusal } from '../policy/decision.js';
import type { MetricsExposition } from './prom-metrics.js';

/**
 * GET /metrics on the relay's main port, for the admin only: labels may carry tunnel names, and
 * the main port faces users. No token: 401 (UNAUTHORIZED); a user's token: 403 (the policy's
 * refusal), both as the relay's coded JSON. A scraper that cannot send a bearer token uses the
 * separate metrics listener (`--metrics-port`) instead.
 */
export const metricsRoutes: FastifyPluginAsync<{ exposition: MetricsExposition; policy: Policy }> = async (app, { exposition, policy }) => {
  app.get('/metrics', {
    onRequest: [app.requireIdentity, async (request) => {
      const decision = await policy.authorize(request.identity!, 'relay.stats', { kind: 'relay' });
      if (!decision.allow) throw refusal(decision);
    }],
  }, async (_request, reply) => {
    const text = await exposition.render();
    return reply.type(exposition.contentType).send(text);
  });
};
