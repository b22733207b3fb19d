import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RingBuffer } from './ring-buffer.js';

test('a ring buffer keeps the last `capacity` items, oldest first', () => {
  const ring = new RingBuffer<number>(3);
  assert.deepEqual(ring.toArray(), []);
  assert.equal(ring.last(), undefined);
  for (let i = 1; i <= 7; i++) ring.push(i);
  assert.deepEqual(ring.toArray(), [5, 6, 7]);
  assert.equal(ring.length, 3);
  assert.equal(ring.last(), 7);
  ring.clear();
  assert.deepEqual(ring.toArray(), []);
  ring.push(9);
  assert.deepEqual(ring.toArray(), [9]);
});

test('a ring buffer refuses a capacity that holds nothing', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new RingBuffer(bad), RangeError);
});
