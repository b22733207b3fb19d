import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { readBody, startOrigin } from '../../test-support/http-origin.js';
import { HttpCompression } from './compression.js';
import { acceptableCodings } from './content-coding.js';
import { HttpCache } from './http-cache.js';
import type { HeaderFields } from './ingress-types.js';

const TEXT = Buffer.from('<p>Tether carries HTTP through a tunnel.</p>\n'.repeat(200));

interface Row {
  name: string;
  method?: string;
  request?: HeaderFields;
  status?: number;
  response?: Record<string, string>;
  body?: Buffer;
  /** The coding the client gets (undefined: the body as the origin sent it). */
  encoding: 'br' | 'gzip' | undefined;
  skipped?: string;
  /** Fields of the answer: a string equals, null is absent. */
  fields?: Record<string, string | null>;
}

const html = { 'content-type': 'text/html; charset=utf-8', etag: '"abc"' };

const rows: Row[] = [
  { name: 'br when the client accepts both', request: { 'accept-encoding': 'gzip, deflate, br' }, response: html, encoding: 'br',
    fields: { 'content-encoding': 'br', vary: 'Accept-Encoding', etag: '"abc-br"', 'content-length': null } },
  { name: 'gzip when that is all the client takes', request: { 'accept-encoding': 'gzip' }, response: html, encoding: 'gzip', fields: { etag: '"abc-gz"' } },
  { name: 'identity without Accept-Encoding, but Vary still said', response: html, encoding: undefined, skipped: 'not-accepted',
    fields: { 'content-encoding': null, vary: 'Accept-Encoding', etag: '"abc"', 'content-length': String(TEXT.length) } },
  { name: 'q-values: gzip preferred over br', request: { 'accept-encoding': 'br;q=0.5, gzip;q=0.8' }, response: html, encoding: 'gzip' },
  { name: 'q-values: identity preferred over both', request: { 'accept-encoding': 'br;q=0.2, gzip;q=0.2, identity' }, response: html, encoding: undefined },
  { name: '* takes br first', request: { 'accept-encoding': '*' }, response: html, encoding: 'br' },
  { name: 'br refused, * covers gzip', request: { 'accept-encoding': 'br;q=0, *' }, response: html, encoding: 'gzip' },
  { name: 'identity;q=0 alone: nothing better to send than the body as it is', request: { 'accept-encoding': 'identity;q=0' }, response: html, encoding: undefined },
  { name: 'the origin\'s Vary is kept and extended', request: { 'accept-encoding': 'br' }, response: { ...html, vary: 'Accept-Language' }, encoding: 'br',
    fields: { vary: 'Accept-Language, Accept-Encoding' } },
  { name: 'a weak ETag stays as it is', request: { 'accept-encoding': 'br' }, response: { 'content-type': 'application/json', etag: 'W/"w1"' }, encoding: 'br', fields: { etag: 'W/"w1"' } },
  { name: 'already encoded by the origin: untouched', request: { 'accept-encoding': 'br, gzip' }, response: { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
    body: gzipSync(TEXT), encoding: undefined, skipped: 'encoded', fields: { 'content-encoding': 'gzip', vary: null } },
  { name: 'a Range request', request: { 'accept-encoding': 'br', range: 'bytes=0-9' }, response: html, encoding: undefined, skipped: 'range' },
  { name: 'a 206', request: { 'accept-encoding': 'br' }, status: 206, response: { ...html, 'content-range': `bytes 0-${TEXT.length - 1}/${TEXT.length * 2}` },
    encoding: undefined, skipped: 'range' },
  { name: 'Cache-Control: no-transform', request: { 'accept-encoding': 'br' }, response: { ...html, 'cache-control': 'public, no-transform' }, encoding: undefined, skipped: 'no-transform' },
  { name: 'a body under the threshold', request: { 'accept-encoding': 'br' }, response: html, body: Buffer.from('tiny'), encoding: undefined, skipped: 'small' },
  { name: 'an event stream is never held back', request: { 'accept-encoding': 'br' }, response: { 'content-type': 'text/event-stream' },
    body: Buffer.from('data: one\n\n'.repeat(200)), encoding: undefined, skipped: 'event-stream' },
  { name: 'HEAD', method: 'HEAD', request: { 'accept-encoding': 'br' }, response: html, body: Buffer.alloc(0), encoding: undefined, skipped: 'head' },
  { name: '204', request: { 'accept-encoding': 'br' }, status: 204, response: html, body: Buffer.alloc(0), encoding: undefined, skipped: 'no-body' },
  { name: 'an image is not compressible', request: { 'accept-encoding': 'br' }, response: { 'content-type': 'image/png' }, body: randomBytes(4096), encoding: undefined, skipped: 'incompressible' },
  { name: 'JSON, SVG and JavaScript are', request: { 'accept-encoding': 'gzip' }, response: { 'content-type': 'application/json' }, encoding: 'gzip' },
  { name: 'SVG', request: { 'accept-encoding': 'br' }, response: { 'content-type': 'image/svg+xml' }, encoding: 'br' },
  { name: 'no Content-Type', request: { 'accept-encoding': 'br' }, response: {}, encoding: undefined, skipped: 'no-type' },
];

for (const row of rows) {
  test(`compression: ${row.name}`, async (t) => {
    const origin = await startOrigin(t);
    const body = row.body ?? TEXT;
    origin.route('/r', (_req, res) => {
      res.writeHead(row.status ?? 200, { 'content-length': String(body.length), ...row.response });
      res.end(row.method === 'HEAD' ? undefined : body);
    });
    const compression = new HttpCompression();
    const response = await compression.serve({ method: row.method ?? 'GET', path: '/r', headers: { ...row.request } }, origin.fetch);
    const got = await readBody(response.body);
    assert.equal(response.encoding, row.encoding);
    if (row.skipped !== undefined) assert.equal(response.skipped, row.skipped);
    const decoded = row.encoding === 'br' ? brotliDecompressSync(got) : row.encoding === 'gzip' ? gunzipSync(got) : got;
    assert.ok(decoded.equals(row.method === 'HEAD' || row.status === 204 ? Buffer.alloc(0) : body), 'the body, decoded, is the origin\'s byte for byte');
    if (row.encoding !== undefined) assert.ok(got.length < body.length, 'and smaller');
    for (const [name, want] of Object.entries(row.fields ?? {})) {
      if (want === null) assert.equal(response.headers[name], undefined, `${name} absent`);
      else assert.equal(response.headers[name], want, name);
    }
  });
}

test('compression: a 304 for a tag held with our suffix: the origin sees its own tag, the client gets its suffixed one back', async (t) => {
  const origin = await startOrigin(t);
  origin.route('/r', (req, res) => {
    if (req.headers['if-none-match'] === '"abc"') res.writeHead(304, { etag: '"abc"' }).end();
    else res.writeHead(200, html).end(TEXT);
  });
  const compression = new HttpCompression();
  const response = await compression.serve({ method: 'GET', path: '/r', headers: { 'accept-encoding': 'br', 'if-none-match': '"abc-br"' } }, origin.fetch);
  await readBody(response.body);
  assert.equal(origin.lastHeaders('/r')?.['if-none-match'], '"abc"');
  assert.equal(response.status, 304);
  assert.equal(response.headers.etag, '"abc-br"');
  assert.equal(response.headers.vary, 'Accept-Encoding');
});

test('compression: destroying the client\'s body aborts the origin\'s response', async (t) => {
  const origin = await startOrigin(t);
  let closed = false;
  origin.route('/endless', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.on('close', () => { closed = true; });
    const more = (): void => {
      while (!closed && res.write(randomBytes(16 * 1024).toString('hex')));
      if (!closed) res.once('drain', more);
    };
    more();
  });
  const response = await new HttpCompression().serve({ method: 'GET', path: '/endless', headers: { 'accept-encoding': 'gzip' } }, origin.fetch);
  assert.equal(response.encoding, 'gzip');
  // Backpressure: nobody reads, so the origin is held at its write buffer rather than streaming on forever.
  const iterator = response.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  await iterator.next();
  response.body.destroy();
  while (!closed) await new Promise((resolve) => setImmediate(resolve));
});

test('compression: an origin body that fails midway fails the client\'s', async (t) => {
  const origin = await startOrigin(t);
  origin.route('/broken', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(TEXT.length) });
    res.write(TEXT.subarray(0, 2000), () => res.destroy());
  });
  const response = await new HttpCompression().serve({ method: 'GET', path: '/broken', headers: { 'accept-encoding': 'br' } }, origin.fetch);
  assert.equal(response.encoding, 'br');
  await assert.rejects(readBody(response.body));
});

const negotiation: [string | undefined, string[]][] = [
  [undefined, []],
  ['', []],
  ['gzip, br', ['br', 'gzip']],
  ['br;q=0.5, gzip', ['gzip', 'br']],
  ['GZIP', ['gzip']],
  ['*', ['br', 'gzip']],
  ['*;q=0', []],
  ['br;q=0, *', ['gzip']],
  ['identity;q=0', []],
  ['deflate', []],
  ['gzip;q=0.5, identity', []],
  ['gzip;q=0.5', ['gzip']],
  ['zstd, br;q=0.9, gzip;q=0.9', ['br', 'gzip']],
];

for (const [accept, want] of negotiation) {
  test(`compression: Accept-Encoding ${JSON.stringify(accept)} → ${JSON.stringify(want)}`, () => {
    assert.deepEqual(acceptableCodings(accept === undefined ? {} : { 'accept-encoding': accept }), want);
  });
}

test('compression over the cache: a hit is compressed per client, and a suffixed tag is answered 304 by the cache', async (t) => {
  const origin = await startOrigin(t);
  origin.route('/page', (_req, res) => {
    res.writeHead(200, { ...html, 'cache-control': 'max-age=60', 'content-length': String(TEXT.length) }).end(TEXT);
  });
  const cache = new HttpCache();
  const compression = new HttpCompression();
  const ingress = (headers: HeaderFields) =>
    compression.serve({ method: 'GET', path: '/page', headers }, (request) => cache.serve('svc', 1024 * 1024, request, origin.fetch));

  const first = await ingress({ 'accept-encoding': 'br' });
  assert.ok(brotliDecompressSync(await readBody(first.body)).equals(TEXT));
  const second = await ingress({ 'accept-encoding': 'gzip' });
  assert.equal(second.headers['content-encoding'], 'gzip');
  assert.match(String(second.headers['cache-status']), /tether; hit/);
  assert.ok(gunzipSync(await readBody(second.body)).equals(TEXT));
  const plain = await ingress({});
  assert.ok((await readBody(plain.body)).equals(TEXT));
  const revalidation = await ingress({ 'accept-encoding': 'br', 'if-none-match': '"abc-br"' });
  await readBody(revalidation.body);
  assert.equal(revalidation.status, 304);
  assert.equal(revalidation.headers.etag, '"abc-br"');
  assert.equal(origin.hits('/page'), 1, 'the origin was asked once');
});
