import { createServer, type Server } from 'node:http';
import type { EventEmitter } from 'node:events';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { PoolState } from '../core/pool-state.js';

/** What `tether connect`/`share` shows to a scraper: its relay pool, and events counted as they come. */
export interface ClientMetricsSource {
  state(): PoolState | undefined;
  /** Streams open now (connector), when known. */
  openStreams?: () => number;
  events: EventEmitter;
}

const POOL_STATES = ['up', 'connecting', 'down', 'draining', 'failed', 'idle'] as const;

/**
 * `--metrics-port P`: GET /metrics (Prometheus text format) on HOST:P (127.0.0.1 by default)
 * with the client's relay pool (endpoints by state, RTT per relay, live sessions, queued opens),
 * streams open, resumed and detached, and connection errors by code. The relay URLs are the
 * client's own few endpoints, so they are fine as labels. Resolves once listening; ADDRESS_IN_USE
 * when the port is taken.
 */
export async function serveClientMetrics(port: number, host: string, role: 'connect' | 'share', source: ClientMetricsSource): Promise<Server> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const pool = () => source.state();
  new prom.Gauge({
    name: 'tether_client_relays', help: 'Relay endpoints of the pool, by state', labelNames: ['state'], registers: [registry],
    collect() {
      const endpoints = pool()?.endpoints ?? [];
      for (const state of POOL_STATES) this.set({ state }, endpoints.filter((e) => e.state === state).length);
    },
  });
  new prom.Gauge({
    name: 'tether_client_relay_rtt_seconds', help: 'Smoothed round-trip time to each relay with a live session', labelNames: ['relay'], registers: [registry],
    collect() {
      this.reset();
      for (const e of pool()?.endpoints ?? []) if (e.state === 'up') this.set({ relay: e.url }, e.rttMs / 1000);
    },
  });
  new prom.Gauge({ name: 'tether_client_sessions_live', help: 'Live relay sessions of the pool', registers: [registry], collect() { this.set(pool()?.live ?? 0); } });
  new prom.Gauge({ name: 'tether_client_opens_queued', help: 'Stream opens waiting for a relay', registers: [registry], collect() { this.set(pool()?.queued ?? 0); } });
  if (source.openStreams) {
    const open = source.openStreams;
    new prom.Gauge({ name: 'tether_client_streams_open', help: 'Streams open now', registers: [registry], collect() { this.set(open()); } });
  }
  const resumed = new prom.Counter({ name: 'tether_client_streams_resumed_total', help: 'Streams resumed through another relay after losing theirs', registers: [registry] });
  const detached = new prom.Counter({ name: 'tether_client_streams_detached_total', help: 'Streams that lost their relay path', registers: [registry] });
  const errors = new prom.Counter({ name: 'tether_client_connection_errors_total', help: 'Connections through the tunnel that failed, by code', labelNames: ['code'], registers: [registry] });
  source.events.on('streamResumed', () => resumed.inc());
  source.events.on('streamDetached', () => detached.inc());
  source.events.on('connectionError', (_remote: string, err: TetherError) => errors.inc({ code: err.code }));
  source.events.on('streamClosed', (_id: number, err: TetherError | undefined) => {
    if (err) errors.inc({ code: err.code });
  });
  registry.setDefaultLabels({ role });

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: ErrorCode.NOT_FOUND, message: 'only GET /metrics here' }));
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: ErrorCode.INTERNAL, message: err.message })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? createError(ErrorCode.ADDRESS_IN_USE, `--metrics-port ${port} on ${host} is already in use: pick another port`)
        : createError(ErrorCode.INVALID_CONFIG, `cannot serve metrics on ${host}:${port}: ${err.code ?? err.message}`));
    });
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return server;
}
