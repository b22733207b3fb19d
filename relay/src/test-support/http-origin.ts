/**
 * A real HTTP origin on 127.0.0.1 for the ingress layers' tests, and an OriginFetch that asks it
 * over node:http, as the tunnel will. Counts the requests it gets per path (query included).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import type { HeaderFields, IngressRequest, IngressResponse, OriginFetch } from '../ingress/http/ingress-types.js';

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

export interface TestOrigin {
  fetch: OriginFetch;
  /** Requests per path so far. */
  hits(path: string): number;
  /** Answers requests whose path (without query) is `path`; the last one set wins. */
  route(path: string, handler: OriginHandler): void;
  /** The last request's fields per path. */
  lastHeaders(path: string): IncomingMessage['headers'] | undefined;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'];

export async function startOrigin(t: TestContext): Promise<TestOrigin> {
  const counts = new Map<string, number>();
  const routes = new Map<string, OriginHandler>();
  const seen = new Map<string, IncomingMessage['headers']>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const hit = (counts.get(path) ?? 0) + 1;
    counts.set(path, hit);
    seen.set(path, req.headers);
    const handler = routes.get(path.split('?')[0]);
    if (handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res, hit);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const fetch: OriginFetch = (req: IngressRequest) => new Promise<IngressResponse>((resolve, reject) => {
    const out = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers: definedFields(req.headers) }, (res) => {
      const headers: HeaderFields = { ...res.headers };
      for (const name of HOP_BY_HOP) delete headers[name];
      const body: Readable = res;
      resolve({ status: res.statusCode ?? 502, headers, body, trailers: () => (Object.keys(res.trailers).length ? res.trailers : undefined) });
    });
    out.on('error', reject);
    if (req.body) req.body.pipe(out);
    else out.end();
  });

  return {
    fetch,
    hits: (path) => counts.get(path) ?? 0,
    route: (path, handler) => routes.set(path, handler),
    lastHeaders: (path) => seen.get(path),
  };
}

function definedFields(headers: HeaderFields): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/** Reads a body to its end. */
export async function readBody(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** A clock the cache reads instead of Date.now, moved by the test (whole seconds, as HTTP dates are). */
export class TestClock {
  ms = Math.floor(Date.now() / 1000) * 1000;
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  httpDate(offsetSeconds = 0): string {
    return new Date(this.ms + offsetSeconds * 1000).toUTCString();
  }
}
