import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../registry/registry-contract.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { rateLimitStoreContract } from './rate-limit-store-contract.js';

rateLimitStoreContract('memory', async (clock) => new MemoryRateLimitStore(clock));

const rule = { rate: 60, periodMs: 60_000, burst: 1 };

test('memory store: buckets that are full again are swept, so memory follows the keys active lately', () => {
  const clock = new ManualClock();
  const store = new MemoryRateLimitStore(clock);
  for (let key = 0; key < 2000; key++) store.decide(String(key), rule);
  clock.t += 1000;
  for (let key = 2000; key < 4200; key++) store.decide(String(key), rule);
  assert.ok(store.size <= 2200, `${store.size} buckets kept`);
  assert.equal(store.evicted, 0);
});

test('memory store: a flood of distinct keys is capped at maxKeys, the least recently used forgotten first', () => {
  const clock = new ManualClock();
  const store = new MemoryRateLimitStore(clock, { maxKeys: 100 });
  store.decide('kept', rule);
  for (let key = 0; key < 1000; key++) {
    store.decide(String(key), rule);
    if (key % 50 === 0) store.decide('kept', { ...rule, burst: 1000 }); // keeps it recently used
  }
  assert.equal(store.size, 100);
  assert.equal(store.evicted, 901);
  assert.equal(store.decide('999', rule).allowed, false, 'a recent bucket is remembered');
  assert.equal(store.decide('0', rule).allowed, true, 'an old one was forgotten: a fresh burst');
});
