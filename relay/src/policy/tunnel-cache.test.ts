import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStore } from '../stores/sqlite/sqlite-store.js';
import { TunnelCache } from './tunnel-cache.js';

class CountingStore extends SqliteStore {
  reads = 0;
  fail = false;

  override async getTunnel(name: string) {
    this.reads++;
    if (this.fail) throw new Error('store down');
    return super.getTunnel(name);
  }
}

test('TunnelCache: concurrent askers share one read; entries last ttlMs; invalidate and failures are not kept', async (t) => {
  const store = new CountingStore(':memory:');
  t.after(() => store.close());
  await store.claimTunnel('web', 1);
  let now = 0;
  const cache = new TunnelCache(store, { now: () => now, monotonic: () => now }, 1000, 2);
  const burst = await Promise.all(Array.from({ length: 100 }, () => cache.get('web')));
  assert.equal(store.reads, 1, 'a burst of opens costs one read');
  assert.ok(burst.every((r) => r?.ownerId === 1));
  now += 999;
  await cache.get('web');
  assert.equal(store.reads, 1);
  now += 1;
  await cache.get('web');
  assert.equal(store.reads, 2, 'read again after ttlMs');
  cache.invalidate('web');
  await cache.get('web');
  assert.equal(store.reads, 3, 'read again after invalidate');

  store.fail = true;
  await assert.rejects(cache.get('db'));
  store.fail = false;
  assert.equal(await cache.get('db'), undefined, 'a failed read is not kept');
  assert.equal(store.reads, 5);

  // Bounded: a third name pushes the oldest out.
  await cache.get('x');
  await cache.get('web');
  assert.equal(store.reads, 7);
  cache.clear();
  await cache.get('x');
  assert.equal(store.reads, 8);
});
