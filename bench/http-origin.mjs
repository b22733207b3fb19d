// The origin of `npm run bench:http`, run as its own process: the same small answer over
// HTTP/1.1 (keep-alive) and over h2c (prior knowledge), on two ports of 127.0.0.1, printed on
// stdout as one line `H1PORT H2PORT`. The load generators reach it directly and through the
// relay, so both paths end at the same server doing the same work.
import http from 'node:http';
import http2 from 'node:http2';
import { once } from 'node:events';

/** The answer: small, fixed, cacheable (the cache comparison asks for it). */
const BODY = Buffer.alloc(128, 'x');
const HEADERS = { 'content-type': 'text/plain', 'content-length': String(BODY.length), 'cache-control': 'public, max-age=60' };

/** The same answer, not to be stored: what a cache miss costs (bench:http's cache comparison). */
const NO_STORE = { ...HEADERS, 'cache-control': 'no-store' };

const answer = (req, res) => {
  res.writeHead(200, req.url.startsWith('/nostore') ? NO_STORE : HEADERS);
  res.end(BODY);
};

const h1 = http.createServer({ keepAliveTimeout: 60_000 }, answer);
const h2 = http2.createServer({}, answer);
for (const [name, server] of [['http/1.1', h1], ['h2c', h2]]) {
  server.on('error', (err) => {
    process.stderr.write(`http-origin (${name}): ${err.message}\n`);
    process.exit(1);
  });
  server.listen(0, '127.0.0.1');
}
await Promise.all([once(h1, 'listening'), once(h2, 'listening')]);
process.stdout.write(`${h1.address().port} ${h2.address().port}\n`);
process.on('SIGTERM', () => process.exit(0));
