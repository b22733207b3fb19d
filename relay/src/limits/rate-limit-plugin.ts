import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { rateLimited, type TetherError } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { Metrics } from '../ports/metrics.js';
import { limitMessage } from './limit-message.js';
import { RateLimitCounter } from './rate-limit-counter.js';
import { rateLimitHeaders, type LimitDecision, type RateLimits, type RateSubject } from './rate-limits.js';

export interface RateLimitPluginOptions {
  limits: RateLimits;
  auditor: Auditor;
  metrics: Metrics;
  /** Shadow mode: decisions are counted, logged and audited as they would be, but nothing is refused. */
  shadow?: boolean;
}

/** Paths no limit applies to: probes and scrapes that must answer while the relay is busy. */
const EXEMPT = /^\/(healthz|readyz|metrics)(\/|\?|$)/;

/**
 * The relay's rate limits on HTTP: failed sign-ins lock an address out before its token is even
 * checked (onRequest, ahead of every route's authentication); then each API call and WebSocket
 * upgrade is counted against its address and (once known) its identity (preHandler). A refusal
 * is a RATE_LIMITED error: HTTP 429 with Retry-After; allowed API calls carry RateLimit headers.
 */
export const rateLimitPlugin = fp<RateLimitPluginOptions>(async (app, { limits, auditor, metrics, shadow = false }) => {
  const counter = new RateLimitCounter(metrics);

  const refuse = (request: FastifyRequest, reply: FastifyReply, kind: string, decision: LimitDecision, message: string): TetherError | undefined => {
    counter.count(kind, decision, shadow);
    if (decision.allowed) return undefined;
    auditor.record(AuditEventCode.LIMIT_REFUSED, request.identity, kind, decision.scope ?? 'relay', { reason: message, detail: { address: request.ip, shadow, retryAfterMs: decision.retryAfterMs } });
    if (shadow) {
      request.log.info({ rule: decision.scope, address: request.ip }, `rate limit (shadow mode, not enforced): ${message}`);
      return undefined;
    }
    void reply.headers(rateLimitHeaders(decision));
    return rateLimited(message, decision.retryAfterMs);
  };

  app.addHook('onRequest', async (request, reply) => {
    if (EXEMPT.test(request.url) || request.headers.authorization === undefined) return;
    const decision = await limits.signInAllowed(request.ip);
    const refused = refuse(request, reply, 'sign-in', decision, limitMessage(decision.scope, { address: request.ip }));
    if (refused) throw refused;
  });

  app.addHook('preHandler', async (request, reply) => {
    if (EXEMPT.test(request.url)) return;
    const identity = request.identity;
    const subject: RateSubject = { address: request.ip, identityId: identity?.id, admin: identity?.admin };
    const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
    const upgrade = (request as { ws?: boolean }).ws === true;
    const decision = upgrade ? await limits.upgrade(subject) : await limits.api(subject, request.method, request.routeOptions.url ?? '');
    const refused = refuse(request, reply, upgrade ? 'upgrade' : 'api', decision, limitMessage(decision.scope, { address: request.ip, name: identity?.name, route }));
    if (refused) throw refused;
    if (!upgrade) void reply.headers(rateLimitHeaders(decision));
  });
}, { name: 'tether-rate-limits', dependencies: ['tether-auth'] });
