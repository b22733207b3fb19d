import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readBody } from '../../test-support/http-origin.js';
import { HttpCache } from './http-cache.js';
import type { OriginFetch } from './ingress-types.js';

/** An origin in memory: every path answers 200, cacheable, with `size(path)` bytes. */
function memoryOrigin(size: (path: string) => number): OriginFetch & { hits: number } {
  const fetch = async (request: { path: string }) => {
    fetch.hits += 1;
    const body = Buffer.alloc(size(request.path), 0x61);
    return { status: 200, headers: { 'cache-control': 'max-age=600', 'content-length': String(body.length) }, body: Readable.from([body]) };
  };
  fetch.hits = 0;
  return fetch;
}

function checkBounds(cache: HttpCache, maxBytes: number, quotas: Record<string, number>): void {
  const stats = cache.stats();
  assert.ok(stats.bytes <= maxBytes, `node holds ${stats.bytes} bytes, bound ${maxBytes}`);
  let bytes = 0;
  let entries = 0;
  for (const [tunnel, held] of Object.entries(stats.tunnels)) {
    assert.ok(held.bytes <= quotas[tunnel], `${tunnel} holds ${held.bytes} bytes, quota ${quotas[tunnel]}`);
    bytes += held.bytes;
    entries += held.entries;
  }
  assert.equal(bytes, stats.bytes, 'the tunnels\' bytes add up to the node\'s');
  assert.equal(entries, stats.entries, 'the tunnels\' entries add up to the node\'s');
  assert.equal(stats.pendingBytes, 0);
}

test('memory: filling the cache far past its bounds keeps the node and every tunnel within theirs', async () => {
  const maxBytes = 64 * 1024;
  const cache = new HttpCache({ maxBytes, maxEntryBytes: 8 * 1024 });
  const quotas: Record<string, number> = { a: 20 * 1024, b: 40 * 1024, c: 100 * 1024, d: 3000 };
  const origin = memoryOrigin((path) => (Number(path.slice(1)) * 7919) % 9000);
  let stored = 0;
  for (let i = 0; i < 400; i += 1) {
    const tunnel = Object.keys(quotas)[i % 4];
    const response = await cache.serve(tunnel, quotas[tunnel], { method: 'GET', path: `/${i}`, headers: {} }, origin);
    await readBody(response.body);
    if (String(response.headers['cache-status']).endsWith('stored')) stored += 1;
    checkBounds(cache, maxBytes, quotas);
  }
  assert.ok(stored > 100, 'most responses were stored (and so most were evicted again)');
  assert.ok(cache.stats().bytes > maxBytes / 2, 'the cache is in use, not empty');
});

test('memory: a tunnel whose quota shrinks is trimmed to it on its next request', async () => {
  const cache = new HttpCache({ maxBytes: 1024 * 1024 });
  const origin = memoryOrigin(() => 1000);
  for (let i = 0; i < 10; i += 1) await readBody((await cache.serve('t', 100_000, { method: 'GET', path: `/${i}`, headers: {} }, origin)).body);
  assert.equal(cache.stats().entries, 10);
  await readBody((await cache.serve('t', 5000, { method: 'GET', path: '/0', headers: {} }, origin)).body);
  assert.ok(cache.stats().tunnels.t.bytes <= 5000);
  // The most recently used entries are the ones kept.
  const hit = await cache.serve('t', 5000, { method: 'GET', path: '/9', headers: {} }, origin);
  assert.equal(hit.cache, 'hit');
  await readBody(hit.body);
});

test('memory: at the node bound, the least recently used entry of any tunnel goes first', async () => {
  // Each entry counts about 1.6 KiB (body, fields, overhead): three fit in 5 KiB, four do not.
  const cache = new HttpCache({ maxBytes: 5 * 1024 });
  const origin = memoryOrigin(() => 1000);
  const get = async (tunnel: string, path: string) => {
    const response = await cache.serve(tunnel, 1024 * 1024, { method: 'GET', path, headers: {} }, origin);
    await readBody(response.body);
    return response.cache;
  };
  assert.equal(await get('a', '/1'), 'miss');
  assert.equal(await get('b', '/1'), 'miss');
  assert.equal(await get('c', '/1'), 'miss');
  assert.equal(await get('a', '/1'), 'hit');
  assert.equal(await get('d', '/1'), 'miss');
  assert.equal(cache.stats().entries, 3);
  assert.equal(await get('a', '/1'), 'hit');
  assert.equal(await get('c', '/1'), 'hit');
  assert.equal(await get('b', '/1'), 'miss', 'b was the least recently used');
});

test('memory: bodies still arriving share one budget; past it they stream through unstored', async () => {
  const cache = new HttpCache({ maxPendingBytes: 3000 });
  const origin = memoryOrigin(() => 2000);
  const first = await cache.serve('t', 1024 * 1024, { method: 'GET', path: '/1', headers: {} }, origin);
  const second = await cache.serve('t', 1024 * 1024, { method: 'GET', path: '/2', headers: {} }, origin);
  // Both are in flight: the first took 2000 pending bytes, the second cannot take its 2000.
  await Promise.all([readBody(first.body), readBody(second.body)]);
  assert.equal(cache.stats().entries, 1);
  assert.equal(cache.stats().pendingBytes, 0);
});
