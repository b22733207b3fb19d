import { createServer, type Server } from 'node:http';
import { createError, ErrorCode } from '@tether/shared';
import type { MetricsExposition } from './prom-metrics.js';

export interface MetricsListener {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/**
 * The admin listener for scrapers (`--metrics-host H --metrics-port P`): GET /metrics without
 * authentication, and nothing else. It is an admin-only interface, bound to loopback by
 * default: put it on an address only the monitoring network reaches (docs/metrics.md).
 * An address in use is ADDRESS_IN_USE, like the main port.
 */
export async function listenMetrics(exposition: MetricsExposition, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const send = (status: number, code: string, message: string): void => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ code, message }));
    };
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') return send(404, ErrorCode.NOT_FOUND, `no route ${path} here: this listener serves GET /metrics only`);
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, ErrorCode.INVALID_ARGUMENT, `${request.method} /metrics: only GET`);
    exposition.render().then(
      (text) => response.writeHead(200, { 'content-type': exposition.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (err: unknown) => send(500, ErrorCode.INTERNAL, `metrics could not be collected: ${(err as Error).message}`),
    );
  });
  // A scraper keeps its connection; close() must not wait for it.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => {
      reject(err.code === 'EADDRINUSE'
        ? createError(ErrorCode.ADDRESS_IN_USE, `metrics port ${port} on ${host} is already in use: stop the other process or pass another --metrics-port`)
        : createError(ErrorCode.INVALID_CONFIG, `cannot listen for metrics on ${host}:${port}: ${err.code ?? err.message}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
