// A real HTTP origin for the ingress suites: counts its hits, echoes requests, streams large
// bodies, serves server-sent events and a WebSocket echo, and can be slow on purpose.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { WebSocketServer } from 'ws';

/** The block large downloads repeat (1 MiB of fixed pseudo-random bytes). */
export const BLOCK = (() => {
  const block = Buffer.alloc(1024 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    block[i] = x & 0xff;
  }
  return block;
})();

/** SHA-256 of BLOCK repeated `count` times. */
export function blocksSha256(count) {
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(BLOCK);
  return hash.digest('hex');
}

/** Writes BLOCK `count` times to `out` with backpressure, then ends it. */
async function writeBlocks(out, count) {
  for (let i = 0; i < count; i++) {
    if (!out.write(BLOCK)) await once(out, 'drain');
    if (out.destroyed) return;
  }
  out.end();
}

export async function startOrigin() {
  const hits = new Map();
  const seen = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://origin');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    seen.push({ method: req.method, path: req.url, headers: req.headers });
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const timer = setInterval(() => {
        res.write(`id: ${i}\ndata: tick ${i}\n\n`);
        if (++i === 3) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      req.on('close', () => clearInterval(timer));
      return;
    }
    if (url.pathname === '/download') {
      const count = Number(url.searchParams.get('mib') ?? 1);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(count * BLOCK.length) });
      await writeBlocks(res, count);
      return;
    }
    if (url.pathname === '/cacheable') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=600' });
      res.end(`version ${hits.get('/cacheable')}\n`);
      return;
    }
    if (url.pathname === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 5 && !res.destroyed; i++) {
        res.write(`part ${i}\n`);
        await new Promise((r) => setTimeout(r, 200));
      }
      res.end();
      return;
    }
    // Everything else: what the origin was sent, with the body's size and SHA-256.
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of req) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers, bytes, sha256: hash.digest('hex') }));
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket, req) => {
    socket.send(JSON.stringify({ hello: req.headers['x-forwarded-for'] ?? null }));
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    hits,
    seen,
    close: () => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
