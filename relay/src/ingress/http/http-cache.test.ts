import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { readBody, startOrigin, TestClock, type OriginHandler, type TestOrigin } from '../../test-support/http-origin.js';
import { HttpCache, type CacheOutcome, type HttpCacheOptions } from './http-cache.js';
import type { HeaderFields } from './ingress-types.js';

interface Step {
  /** Seconds the clock moves before this request. */
  advance?: number;
  method?: string;
  path?: string;
  tunnel?: string;
  headers?: HeaderFields;
  /** What the cache answers. */
  cache: CacheOutcome;
  /** Requests the origin has had for the row's path once this step's body has been read. */
  hits: number;
  status?: number;
  body?: string;
  /** Fields of the answer: a string equals, a RegExp matches, null is absent. */
  fields?: Record<string, string | RegExp | null>;
  /** Then purge this tunnel, expecting this many entries dropped. */
  purge?: [string, number];
}

interface Row {
  name: string;
  /** The origin's answer for the row's path; `clock` sets its Date. */
  origin: (clock: TestClock) => OriginHandler;
  steps: Step[];
  options?: HttpCacheOptions;
  quota?: number;
}

const QUOTA = 1024 * 1024;

function send(res: ServerResponse, clock: TestClock, status: number, fields: Record<string, string | string[]>, body = ''): void {
  const length = status === 304 ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  res.writeHead(status, { date: clock.httpDate(), ...length, ...fields });
  res.end(body);
}

/** An origin that answers 304 when the request's validators match `etag` / `lastModified`. */
function validating(clock: TestClock, fields: Record<string, string>, body: string): OriginHandler {
  return (req, res) => {
    const etagMatch = fields.etag !== undefined && req.headers['if-none-match']?.includes(fields.etag);
    const dateMatch = fields['last-modified'] !== undefined && req.headers['if-modified-since'] === fields['last-modified'];
    if (etagMatch || dateMatch) send(res, clock, 304, fields);
    else send(res, clock, 200, { 'content-type': 'text/plain', ...fields }, body);
  };
}

const fixed = (status: number, fields: Record<string, string | string[]>, body = 'body') => (clock: TestClock): OriginHandler =>
  (_req, res) => send(res, clock, status, { 'content-type': 'text/plain', ...fields }, body);

const LAST_MODIFIED = 'Tue, 01 Dec 2020 10:00:00 GMT';

const rows: Row[] = [
  {
    name: 'max-age: stored, served with a growing Age until stale, then fetched again',
    origin: fixed(200, { 'cache-control': 'max-age=60' }, 'hello'),
    steps: [
      { cache: 'miss', hits: 1, body: 'hello', fields: { 'cache-status': 'tether; fwd=uri-miss; stored' } },
      { cache: 'hit', hits: 1, body: 'hello', fields: { age: '0', 'cache-status': 'tether; hit; ttl=60', 'content-length': '5' } },
      { advance: 30, cache: 'hit', hits: 1, fields: { age: '30', 'cache-status': 'tether; hit; ttl=30' } },
      { advance: 29, cache: 'hit', hits: 1, fields: { age: '59' } },
      { advance: 2, cache: 'miss', hits: 2, body: 'hello', fields: { 'cache-status': /fwd=stale; fwd-status=200; stored/ } },
    ],
  },
  {
    name: 's-maxage: a shared cache uses it over max-age=0',
    origin: fixed(200, { 'cache-control': 'max-age=0, s-maxage=60' }),
    steps: [{ cache: 'miss', hits: 1 }, { advance: 10, cache: 'hit', hits: 1, fields: { age: '10' } }],
  },
  {
    name: 'no-store: never stored',
    origin: fixed(200, { 'cache-control': 'no-store, max-age=60' }),
    steps: [{ cache: 'miss', hits: 1, fields: { 'cache-status': /detail=not-storable/ } }, { cache: 'miss', hits: 2 }],
  },
  {
    name: 'private: not stored by a shared cache',
    origin: fixed(200, { 'cache-control': 'private, max-age=60' }),
    steps: [{ cache: 'miss', hits: 1 }, { cache: 'miss', hits: 2 }],
  },
  {
    name: 'no-cache with an ETag: stored, revalidated on every use, the client gets the full 200',
    origin: (clock) => validating(clock, { 'cache-control': 'no-cache', etag: '"v1"' }, 'versioned'),
    steps: [
      { cache: 'miss', hits: 1, body: 'versioned' },
      { cache: 'revalidated', hits: 2, status: 200, body: 'versioned', fields: { 'cache-status': /fwd=stale; fwd-status=304/, etag: '"v1"' } },
      { cache: 'revalidated', hits: 3, status: 200, body: 'versioned' },
    ],
  },
  {
    name: 'Expires: fresh until the date, then fetched again',
    origin: (clock) => (_req, res) => send(res, clock, 200, { expires: clock.httpDate(60) }, 'expiring'),
    steps: [{ cache: 'miss', hits: 1 }, { advance: 59, cache: 'hit', hits: 1 }, { advance: 2, cache: 'miss', hits: 2 }],
  },
  {
    name: 'ETag + 304: a stale entry is refreshed by If-None-Match; a client holding the tag gets 304',
    origin: (clock) => validating(clock, { 'cache-control': 'max-age=10', etag: '"e1"' }, 'tagged'),
    steps: [
      { cache: 'miss', hits: 1, body: 'tagged' },
      { advance: 11, cache: 'revalidated', hits: 2, status: 200, body: 'tagged', fields: { age: '0' } },
      { advance: 5, cache: 'hit', hits: 2, body: 'tagged', fields: { age: '5' } },
      { headers: { 'if-none-match': '"e1"' }, cache: 'hit', hits: 2, status: 304, body: '', fields: { etag: '"e1"', 'content-type': null } },
      { headers: { 'if-none-match': '"other"' }, cache: 'hit', hits: 2, status: 200, body: 'tagged' },
      { advance: 11, headers: { 'if-none-match': 'W/"e1"' }, cache: 'revalidated', hits: 3, status: 304, body: '' },
    ],
  },
  {
    name: 'Last-Modified + 304: revalidated with If-Modified-Since; a client with a later date gets 304',
    origin: (clock) => validating(clock, { 'cache-control': 'max-age=10', 'last-modified': LAST_MODIFIED }, 'dated'),
    steps: [
      { cache: 'miss', hits: 1 },
      { advance: 11, cache: 'revalidated', hits: 2, body: 'dated' },
      { headers: { 'if-modified-since': LAST_MODIFIED }, cache: 'hit', hits: 2, status: 304 },
      { headers: { 'if-modified-since': 'Mon, 30 Nov 2020 10:00:00 GMT' }, cache: 'hit', hits: 2, status: 200, body: 'dated' },
    ],
  },
  {
    name: 'heuristic freshness from Last-Modified (10% of its age)',
    origin: (clock) => (_req, res) => send(res, clock, 200, { 'last-modified': clock.httpDate(-1000) }, 'old'),
    steps: [{ cache: 'miss', hits: 1 }, { advance: 99, cache: 'hit', hits: 1 }, { advance: 2, cache: 'miss', hits: 2 }],
  },
  {
    name: 'Vary: Accept-Language: each language is its own variant',
    origin: (clock) => (req, res) => send(res, clock, 200, { 'cache-control': 'max-age=60', vary: 'Accept-Language' }, `lang ${req.headers['accept-language']}`),
    steps: [
      { headers: { 'accept-language': 'en' }, cache: 'miss', hits: 1, body: 'lang en', fields: { 'cache-status': /fwd=uri-miss/ } },
      { headers: { 'accept-language': 'fr' }, cache: 'miss', hits: 2, body: 'lang fr', fields: { 'cache-status': /fwd=vary-miss/ } },
      { headers: { 'accept-language': 'en' }, cache: 'hit', hits: 2, body: 'lang en' },
      { headers: { 'accept-language': 'fr' }, cache: 'hit', hits: 2, body: 'lang fr' },
      { cache: 'miss', hits: 3, body: 'lang undefined' },
    ],
  },
  {
    name: 'Authorization: a plain max-age response to it is not stored (RFC 9111 §3.5)',
    origin: fixed(200, { 'cache-control': 'max-age=60' }),
    steps: [{ headers: { authorization: 'Bearer a' }, cache: 'miss', hits: 1 }, { headers: { authorization: 'Bearer a' }, cache: 'miss', hits: 2 }],
  },
  {
    name: 'Authorization: s-maxage lets the response be stored and shared',
    origin: fixed(200, { 'cache-control': 's-maxage=60' }),
    steps: [{ headers: { authorization: 'Bearer a' }, cache: 'miss', hits: 1 }, { headers: { authorization: 'Bearer b' }, cache: 'hit', hits: 1 }],
  },
  {
    name: 'Set-Cookie: never stored, even when public',
    origin: fixed(200, { 'cache-control': 'public, max-age=60', 'set-cookie': ['a=1', 'b=2'] }),
    steps: [{ cache: 'miss', hits: 1, fields: { 'cache-status': /detail=set-cookie/ } }, { cache: 'miss', hits: 2 }],
  },
  {
    name: 'POST invalidates the stored resource; a POST is never answered from the cache',
    origin: fixed(200, { 'cache-control': 'max-age=60' }),
    steps: [
      { cache: 'miss', hits: 1 },
      { cache: 'hit', hits: 1 },
      { method: 'POST', cache: 'bypass', hits: 2, fields: { 'cache-status': 'tether; fwd=method' } },
      { cache: 'miss', hits: 3 },
      { method: 'DELETE', cache: 'bypass', hits: 4 },
      { cache: 'miss', hits: 5 },
    ],
  },
  {
    name: 'a POST whose answer names a Location invalidates that resource too',
    origin: (clock) => (req, res) => {
      if (req.method === 'POST') send(res, clock, 201, { location: '/Location?item' });
      else send(res, clock, 200, { 'cache-control': 'max-age=60' }, 'item');
    },
    steps: [
      { path: '/Location?item', cache: 'miss', hits: 1 },
      { path: '/Location?item', cache: 'hit', hits: 1 },
      { path: '/Location', method: 'POST', cache: 'bypass', hits: 1, status: 201 },
      { path: '/Location?item', cache: 'miss', hits: 2 },
    ],
  },
  {
    name: 'must-revalidate: http-cache-semantics revalidates it on every use, fresh or not',
    origin: (clock) => validating(clock, { 'cache-control': 'max-age=60, must-revalidate', etag: '"m1"' }, 'strict'),
    steps: [{ cache: 'miss', hits: 1 }, { cache: 'revalidated', hits: 2, body: 'strict' }],
  },
  {
    name: 'Vary: Accept-Encoding: spellings of the same preference share one variant',
    origin: (clock) => (req, res) => send(res, clock, 200, { 'cache-control': 'max-age=60', vary: 'Accept-Encoding' }, `saw ${req.headers['accept-encoding']}`),
    steps: [
      { headers: { 'accept-encoding': 'gzip, deflate, br' }, cache: 'miss', hits: 1, body: 'saw br, gzip' },
      { headers: { 'accept-encoding': 'br;q=1, gzip;q=0.9, zstd' }, cache: 'hit', hits: 1, body: 'saw br, gzip' },
      { headers: { 'accept-encoding': 'gzip' }, cache: 'miss', hits: 2, body: 'saw gzip' },
      { headers: { 'accept-encoding': 'deflate' }, cache: 'miss', hits: 3, body: 'saw undefined' },
      { cache: 'hit', hits: 3, body: 'saw undefined' },
    ],
  },
  {
    name: 'a 304 matching no stored tag: a client without conditions still gets the body, one with them gets the 304',
    origin: (clock) => (_req, res, hit) => {
      if (hit === 1) send(res, clock, 200, { 'cache-control': 'max-age=10', etag: '"x1"' }, 'first');
      else send(res, clock, 304, { etag: '"x2"' });
    },
    steps: [
      { cache: 'miss', hits: 1 },
      { advance: 11, cache: 'revalidated', hits: 2, status: 200, body: 'first', fields: { 'cache-status': /detail=unmatched/ } },
      { headers: { 'if-none-match': '"x2"' }, cache: 'miss', hits: 3, status: 304, body: '' },
    ],
  },
  {
    name: 'a Range request passes through unstored',
    origin: (clock) => (req, res) => {
      if (req.headers.range === 'bytes=0-3') send(res, clock, 206, { 'content-range': 'bytes 0-3/10', 'cache-control': 'max-age=60' }, '0123');
      else send(res, clock, 200, { 'cache-control': 'max-age=60' }, '0123456789');
    },
    steps: [
      { headers: { range: 'bytes=0-3' }, cache: 'bypass', hits: 1, status: 206, body: '0123', fields: { 'cache-status': /detail=range/ } },
      { headers: { range: 'bytes=0-3' }, cache: 'bypass', hits: 2, status: 206 },
      { cache: 'miss', hits: 3, body: '0123456789' },
      { headers: { range: 'bytes=0-3' }, cache: 'bypass', hits: 4, status: 206 },
    ],
  },
  {
    name: 'a body over maxEntryBytes streams through whole and is not stored',
    options: { maxEntryBytes: 2048 },
    origin: fixed(200, { 'cache-control': 'max-age=60' }, 'x'.repeat(4096)),
    steps: [{ cache: 'miss', hits: 1, body: 'x'.repeat(4096), fields: { 'cache-status': /detail=too-large/ } }, { cache: 'miss', hits: 2 }],
  },
  {
    name: 'a chunked body over maxEntryBytes (no Content-Length) is not stored either',
    options: { maxEntryBytes: 2048 },
    origin: (clock) => (_req, res) => {
      res.writeHead(200, { date: clock.httpDate(), 'cache-control': 'max-age=60' });
      res.write('y'.repeat(1500));
      res.end('y'.repeat(1500));
    },
    steps: [{ cache: 'miss', hits: 1, body: 'y'.repeat(3000) }, { cache: 'miss', hits: 2 }],
  },
  {
    name: 'client Cache-Control: no-cache forces revalidation of a fresh entry',
    origin: (clock) => validating(clock, { 'cache-control': 'max-age=60', etag: '"n1"' }, 'fresh'),
    steps: [
      { cache: 'miss', hits: 1 },
      { headers: { 'cache-control': 'no-cache' }, cache: 'revalidated', hits: 2, body: 'fresh', fields: { 'cache-status': /fwd=request; fwd-status=304/ } },
      { cache: 'hit', hits: 2 },
    ],
  },
  {
    name: 'HEAD is answered from a stored GET, with no body',
    origin: fixed(200, { 'cache-control': 'max-age=60' }, 'head me'),
    steps: [
      { method: 'HEAD', cache: 'miss', hits: 1, body: '' },
      { cache: 'miss', hits: 2, body: 'head me' },
      { method: 'HEAD', cache: 'hit', hits: 2, body: '', fields: { 'content-length': '7' } },
    ],
  },
  {
    name: 'only-if-cached: 504 when nothing is stored, the entry when it is',
    origin: fixed(200, { 'cache-control': 'max-age=60' }),
    steps: [
      { headers: { 'cache-control': 'only-if-cached' }, cache: 'miss', hits: 0, status: 504 },
      { cache: 'miss', hits: 1 },
      { headers: { 'cache-control': 'only-if-cached' }, cache: 'hit', hits: 1, status: 200 },
    ],
  },
  {
    name: 'stale-if-error: a 500 while revalidating serves the stale entry',
    origin: (clock) => (_req, res, hit) => {
      if (hit === 1) send(res, clock, 200, { 'cache-control': 'max-age=10, stale-if-error=60' }, 'kept');
      else send(res, clock, 500, {}, 'broken');
    },
    steps: [
      { cache: 'miss', hits: 1 },
      { advance: 20, cache: 'stale', hits: 2, status: 200, body: 'kept', fields: { 'cache-status': /detail=stale-if-error/ } },
    ],
  },
  {
    name: 'a 500 without stale-if-error goes to the client',
    origin: (clock) => (_req, res, hit) => {
      if (hit === 1) send(res, clock, 200, { 'cache-control': 'max-age=10' }, 'gone');
      else send(res, clock, 500, {}, 'broken');
    },
    steps: [{ cache: 'miss', hits: 1 }, { advance: 20, cache: 'miss', hits: 2, status: 500, body: 'broken' }],
  },
  {
    name: 'a response that is fresh for no time and has no validator is not kept',
    origin: fixed(200, { 'cache-control': 'max-age=0' }),
    steps: [{ cache: 'miss', hits: 1, fields: { 'cache-status': /detail=no-freshness/ } }, { cache: 'miss', hits: 2 }],
  },
  {
    name: 'a tunnel with no quota bypasses the cache',
    quota: 0,
    origin: fixed(200, { 'cache-control': 'max-age=60' }),
    steps: [{ cache: 'bypass', hits: 1, fields: { 'cache-status': /detail=no-quota/ } }, { cache: 'bypass', hits: 2 }],
  },
  {
    name: 'purge drops one tunnel\'s entries only',
    origin: fixed(200, { 'cache-control': 'max-age=60' }),
    steps: [
      { tunnel: 'a', cache: 'miss', hits: 1 },
      { tunnel: 'b', cache: 'miss', hits: 2, purge: ['a', 1] },
      { tunnel: 'a', cache: 'miss', hits: 3 },
      { tunnel: 'b', cache: 'hit', hits: 3 },
    ],
  },
  {
    name: 'quota per tunnel: the tunnel\'s least recently used entry goes, another tunnel\'s stays',
    quota: 3000,
    origin: fixed(200, { 'cache-control': 'max-age=60' }, 'q'.repeat(700)),
    steps: [
      { tunnel: 'other', cache: 'miss', hits: 1 },
      { path: '/quota?1', cache: 'miss', hits: 1 },
      { path: '/quota?2', cache: 'miss', hits: 1 },
      { path: '/quota?1', cache: 'hit', hits: 1 },
      // A third entry (about 1400 bytes each, counted with fields and overhead) does not fit 3000 bytes: ?2, used least recently, is evicted.
      { path: '/quota?3', cache: 'miss', hits: 1 },
      { path: '/quota?1', cache: 'hit', hits: 1 },
      { path: '/quota?3', cache: 'hit', hits: 1 },
      { path: '/quota?2', cache: 'miss', hits: 2 },
      { tunnel: 'other', cache: 'hit', hits: 1 },
    ],
  },
];

for (const row of rows) {
  test(`cache: ${row.name}`, async (t) => {
    const clock = new TestClock();
    const origin = await startOrigin(t);
    const cache = new HttpCache({ now: clock.now, ...row.options });
    const base = `/${row.name.split(':')[0].replace(/[^a-z0-9]+/gi, '-')}`;
    origin.route(base, row.origin(clock));
    origin.route('/quota', row.origin(clock));
    origin.route('/Location', row.origin(clock));
    for (const [i, step] of row.steps.entries()) {
      if (step.advance) clock.advance(step.advance);
      const path = step.path ?? base;
      const request = { method: step.method ?? 'GET', path, headers: { host: 'svc.example', ...step.headers } };
      const response = await cache.serve(step.tunnel ?? 'svc', row.quota ?? QUOTA, request, origin.fetch);
      const body = (await readBody(response.body)).toString();
      const where = `step ${i + 1} (${request.method} ${path})`;
      assert.equal(response.cache, step.cache, `${where}: cache outcome (Cache-Status: ${String(response.headers['cache-status'])})`);
      assert.equal(origin.hits(path), step.hits, `${where}: origin hits`);
      if (step.status !== undefined) assert.equal(response.status, step.status, `${where}: status`);
      if (step.body !== undefined) assert.equal(body, step.body, `${where}: body`);
      for (const [name, want] of Object.entries(step.fields ?? {})) {
        const got = response.headers[name];
        if (want === null) assert.equal(got, undefined, `${where}: ${name} absent`);
        else if (typeof want === 'string') assert.equal(got, want, `${where}: ${name}`);
        else assert.match(String(got), want, `${where}: ${name}`);
      }
      if (step.purge) assert.equal(cache.purge(step.purge[0]), step.purge[1], `${where}: purged entries`);
    }
  });
}

/** Waits (without a deadline of its own: the test runner's timeout is the guard) until `done()`. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

test('cache: stale-while-revalidate serves the stale entry and refreshes it in the background', async (t) => {
  const clock = new TestClock();
  const origin = await startOrigin(t);
  origin.route('/swr', (_req, res, hit) => send(res, clock, 200, { 'cache-control': 'max-age=10, stale-while-revalidate=60', 'x-version': String(hit) }, `v${hit}`));
  const cache = new HttpCache({ now: clock.now });
  const get = async () => {
    const response = await cache.serve('svc', QUOTA, { method: 'GET', path: '/swr', headers: {} }, origin.fetch);
    return { cache: response.cache, body: (await readBody(response.body)).toString() };
  };
  assert.deepEqual(await get(), { cache: 'miss', body: 'v1' });
  clock.advance(20);
  assert.deepEqual(await get(), { cache: 'stale', body: 'v1' });
  await until(() => origin.hits('/swr') === 2);
  // The background fetch stored v2; it is fresh now.
  // Yield to I/O between tries: a loop of cache hits alone would starve the background fetch.
  let next = await get();
  while (next.body === 'v1') {
    await new Promise((resolve) => setImmediate(resolve));
    next = await get();
  }
  assert.deepEqual(next, { cache: 'hit', body: 'v2' });
  assert.equal(origin.hits('/swr'), 2);
});

test('cache: the first bytes reach the client before the origin has finished the body', async (t) => {
  const clock = new TestClock();
  const origin = await startOrigin(t);
  let finish: () => void = () => undefined;
  origin.route('/slow', (_req, res) => {
    res.writeHead(200, { date: clock.httpDate(), 'cache-control': 'max-age=60' });
    res.write('first ');
    finish = () => res.end('last');
  });
  const cache = new HttpCache({ now: clock.now });
  const response = await cache.serve('svc', QUOTA, { method: 'GET', path: '/slow', headers: {} }, origin.fetch);
  const iterator = response.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  assert.equal(String(first.value), 'first ');
  finish();
  const rest: Buffer[] = [];
  for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(r.value);
  assert.equal(Buffer.concat(rest).toString(), 'last');
  await until(() => cache.stats().entries === 1);
  const again = await cache.serve('svc', QUOTA, { method: 'GET', path: '/slow', headers: {} }, origin.fetch);
  assert.equal(again.cache, 'hit');
  assert.equal((await readBody(again.body)).toString(), 'first last');
});

test('cache: a body that errors midway reaches the client as an error and is not stored', async (t) => {
  const clock = new TestClock();
  const origin: TestOrigin = await startOrigin(t);
  origin.route('/broken', (_req, res, hit) => {
    res.writeHead(200, { date: clock.httpDate(), 'cache-control': 'max-age=60', 'content-length': '100' });
    if (hit === 1) res.write('only part', () => res.destroy());
    else res.end('x'.repeat(100));
  });
  const cache = new HttpCache({ now: clock.now });
  const response = await cache.serve('svc', QUOTA, { method: 'GET', path: '/broken', headers: {} }, origin.fetch);
  await assert.rejects(readBody(response.body));
  assert.equal(cache.stats().entries, 0);
  assert.equal(cache.stats().pendingBytes, 0);
  const again = await cache.serve('svc', QUOTA, { method: 'GET', path: '/broken', headers: {} }, origin.fetch);
  assert.equal(again.cache, 'miss');
  assert.equal((await readBody(again.body)).length, 100);
  assert.equal(origin.hits('/broken'), 2);
});

test('cache: a client that leaves mid-body aborts the origin response and nothing is stored', async (t) => {
  const clock = new TestClock();
  const origin = await startOrigin(t);
  let originClosed = false;
  origin.route('/left', (_req, res) => {
    res.writeHead(200, { date: clock.httpDate(), 'cache-control': 'max-age=60' });
    res.write('start');
    res.on('close', () => { originClosed = true; });
  });
  const cache = new HttpCache({ now: clock.now });
  const response = await cache.serve('svc', QUOTA, { method: 'GET', path: '/left', headers: {} }, origin.fetch);
  const iterator = response.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  await iterator.next();
  response.body.destroy();
  await until(() => originClosed);
  assert.equal(cache.stats().entries, 0);
  assert.equal(cache.stats().pendingBytes, 0);
});

test('cache: an origin that cannot be reached is an error for the caller', async () => {
  const cache = new HttpCache();
  const failing = () => Promise.reject(Object.assign(new Error('no route'), { code: 'TETHER_ERR_NO_ROUTE' }));
  await assert.rejects(cache.serve('svc', QUOTA, { method: 'GET', path: '/', headers: {} }, failing), { code: 'TETHER_ERR_NO_ROUTE' });
});

test('cache: backpressure: a client that does not read holds the origin back, then gets every byte', async (t) => {
  const clock = new TestClock();
  const origin = await startOrigin(t);
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  const cap = 64 * 1024 * 1024;
  let written = 0;
  let heldBack = false;
  origin.route('/big', (_req, res) => {
    res.writeHead(200, { date: clock.httpDate(), 'cache-control': 'max-age=60' });
    // Write until write() says stop (or a cap that only an unbounded reader would let us reach).
    while (written < cap && res.write(chunk)) written += chunk.length;
    written += chunk.length;
    heldBack = written < cap;
    res.once('drain', () => res.end());
  });
  const cache = new HttpCache({ now: clock.now });
  const response = await cache.serve('svc', QUOTA * 64, { method: 'GET', path: '/big', headers: {} }, origin.fetch);
  await until(() => written > 0);
  assert.ok(heldBack, `the origin was held back after ${written} bytes, not let run to ${cap}`);
  const body = await readBody(response.body);
  assert.equal(body.length, written);
});
