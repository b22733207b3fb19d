import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limiter.js';

test('RateLimiter allows a burst of perMinute, then one per interval, per key', () => {
  let t = 0;
  const limiter = new RateLimiter<string>(6, { now: () => t, monotonic: () => t });
  for (let i = 0; i < 6; i++) assert.equal(limiter.take('a'), true, `burst ${i}`);
  assert.equal(limiter.take('a'), false);
  assert.equal(limiter.take('b'), true, 'another key has its own budget');
  assert.equal(limiter.retryAfterMs('a'), 10_000);
  t += 9_999;
  assert.equal(limiter.take('a'), false);
  t += 1;
  assert.equal(limiter.take('a'), true);
  assert.equal(limiter.take('a'), false);
  t += 60_000;
  for (let i = 0; i < 6; i++) assert.equal(limiter.take('a'), true, `after a quiet minute ${i}`);
});

test('RateLimiter forgets keys whose bucket is full again', () => {
  let t = 0;
  const limiter = new RateLimiter<number>(60, { now: () => t, monotonic: () => t });
  for (let key = 0; key < 2000; key++) limiter.take(key);
  t += 120_000;
  for (let key = 2000; key < 3100; key++) limiter.take(key);
  assert.equal(limiter.retryAfterMs(5), 0);
});
