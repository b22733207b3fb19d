import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backoff } from './backoff.js';

/** A random source that replays `values` in a loop. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('Backoff', () => {
  test('doubles from the base with the lowest jitter', () => {
    const b = new Backoff(100, 10_000, () => 0);
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [50, 100, 200, 400]);
  });

  test('doubles from the base with the highest jitter', () => {
    const b = new Backoff(100, 10_000, () => 1);
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800]);
  });

  test('stays at the cap however many attempts fail', () => {
    const b = new Backoff(500, 30_000, () => 1);
    const delays = Array.from({ length: 100 }, () => b.next());
    assert.equal(delays[5], 16_000);
    assert.equal(delays[6], 30_000);
    for (const d of delays.slice(6)) assert.equal(d, 30_000);
  });

  test('every delay lies between half the ceiling and the ceiling', () => {
    const random = sequence(0, 0.25, 0.5, 0.75, 0.999, 0.1, 0.9);
    const b = new Backoff(200, 5_000, random);
    for (let attempt = 0; attempt < 20; attempt++) {
      const ceiling = Math.min(5_000, 200 * 2 ** attempt);
      const d = b.next();
      assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d} outside [${ceiling / 2}, ${ceiling}]`);
    }
  });

  test('the jitter follows the random source', () => {
    const b = new Backoff(1000, 60_000, sequence(0.5));
    assert.equal(b.next(), 750);
    assert.equal(b.next(), 1500);
  });

  test('reset starts again from the base', () => {
    const b = new Backoff(100, 10_000, () => 0);
    b.next();
    b.next();
    b.next();
    b.reset();
    assert.equal(b.next(), 50);
    assert.equal(b.next(), 100);
  });

  test('defaults: half a second first, 30 s at most', () => {
    const low = new Backoff(undefined, undefined, () => 0);
    const high = new Backoff(undefined, undefined, () => 1);
    assert.equal(low.next(), 250);
    assert.equal(high.next(), 500);
    for (let i = 0; i < 40; i++) high.next();
    assert.equal(high.next(), 30_000);
  });
});
