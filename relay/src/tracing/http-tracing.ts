import fp from 'fastify-plugin';
import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextFrom } from './span-context.js';

export interface HttpTracingOptions {
  tracer: Tracer;
  nodeId: string;
}

const spans = new WeakMap<FastifyRequest, Span>();

function isUpgrade(request: FastifyRequest): boolean {
  return (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function finish(request: FastifyRequest, status: number): void {
  const span = spans.get(request);
  if (!span) return;
  spans.delete(request);
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * A span per HTTP API request and per WebSocket upgrade (docs/tracing.md), a child of the
 * caller's `traceparent` header when it sends one. Only the method, the route's pattern and the
 * status go in: never the query string, headers or bodies (they may hold tokens and names).
 * An upgrade's span ends when the socket is handed over (status 101) or refused.
 */
export const httpTracing = fp<HttpTracingOptions>(async (app, { tracer, nodeId }) => {
  app.addHook('onRequest', async (request) => {
    const upgrade = isUpgrade(request);
    const route = request.routeOptions.url ?? 'unmatched';
    const header = request.headers.traceparent;
    const state = request.headers.tracestate;
    const span = tracer.startSpan(upgrade ? 'tether.ws.upgrade' : `${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'tether.node.id': nodeId, 'tether.upgrade': upgrade },
    }, contextFrom(typeof header === 'string' ? { traceparent: header, tracestate: typeof state === 'string' ? state : undefined } : undefined));
    spans.set(request, span);
  });
  app.addHook('onResponse', async (request, reply: FastifyReply) => finish(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request) => finish(request, 499));
  // @fastify/websocket takes the socket over in the handler (hijacked: no onResponse).
  app.addHook('preHandler', async (request, reply) => {
    if (!isUpgrade(request)) return;
    setImmediate(() => {
      if (reply.sent) finish(request, 101);
    });
  });
}, { name: 'tether-http-tracing' });
