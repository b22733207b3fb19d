import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdaptiveLimit } from './adaptive-limit.js';

const BASE_MS = 10;

/**
 * A synthetic relay: opens take BASE_MS while at most `capacity` are in flight, and
 * proportionally longer past it (they queue). Demand never ends: every step fills the limit,
 * then one open finishes with the latency the load at that moment gives. One sample per step.
 */
function run(limiter: AdaptiveLimit, capacity: number, samples: number, each?: (limit: number, sample: number) => void): void {
  for (let i = 0; i < samples; i++) {
    while (limiter.acquire());
    limiter.release(BASE_MS * Math.max(1, limiter.stats.inflight / capacity));
    each?.(limiter.limit, i);
  }
}

/** Where the limit settles for a capacity: L = tolerance · capacity + √L (see adaptive-limit.ts). */
function settlesAt(capacity: number, tolerance = 1.5): number {
  let x = capacity;
  for (let i = 0; i < 100; i++) x = tolerance * capacity + Math.sqrt(x);
  return x;
}

test('AdaptiveLimit grows while opens are as fast as ever and the limit is in use, up to maxLimit', () => {
  const limiter = new AdaptiveLimit({ initialLimit: 20, maxLimit: 200 });
  let previous = limiter.limit;
  run(limiter, Number.POSITIVE_INFINITY, 3000, (limit) => {
    assert.ok(limit >= previous, 'never shrinks while healthy');
    previous = limit;
  });
  assert.equal(limiter.limit, 200);
});

test('AdaptiveLimit does not grow when the relay is idle (app-limited): nothing was learnt', () => {
  const limiter = new AdaptiveLimit({ initialLimit: 50 });
  for (let i = 0; i < 1000; i++) {
    assert.equal(limiter.acquire(), true);
    limiter.release(BASE_MS);
  }
  assert.equal(limiter.limit, 50);
});

test('AdaptiveLimit drops when latency doubles', () => {
  const limiter = new AdaptiveLimit({ initialLimit: 100 });
  run(limiter, Number.POSITIVE_INFINITY, 100);
  const healthy = limiter.limit;
  let previous = healthy;
  for (let i = 0; i < 100; i++) {
    while (limiter.acquire());
    limiter.release(2 * BASE_MS);
    assert.ok(limiter.limit <= previous, `grew at sample ${i + 1}`);
    previous = limiter.limit;
    if (i === 9) assert.ok(limiter.limit < healthy, 'the first window already lowers it');
  }
  assert.ok(limiter.limit < 0.8 * healthy, `${healthy} → ${limiter.limit}`);
});

test('AdaptiveLimit settles near its capacity, and within 200 samples after the capacity halves', () => {
  const limiter = new AdaptiveLimit({ initialLimit: 20 });
  run(limiter, 100, 3000);
  const before = settlesAt(100);
  assert.ok(Math.abs(limiter.limit - before) <= 0.1 * before, `settled at ${limiter.limit}, expected about ${Math.round(before)}`);

  const after = settlesAt(50);
  let settledAfter: number | undefined;
  run(limiter, 50, 2000, (limit, sample) => {
    const inBand = Math.abs(limit - after) <= 0.1 * after;
    if (inBand) settledAfter ??= sample + 1;
    else if (settledAfter !== undefined) assert.fail(`left the band at sample ${sample + 1} (limit ${limit}, band around ${Math.round(after)})`);
  });
  assert.ok(settledAfter !== undefined && settledAfter <= 200, `settled after ${settledAfter} samples`);
});

test('AdaptiveLimit refuses past the limit and counts it; release frees a place', () => {
  const limiter = new AdaptiveLimit({ initialLimit: 4, minLimit: 1 });
  for (let i = 0; i < 4; i++) assert.equal(limiter.acquire(), true);
  assert.equal(limiter.acquire(), false);
  limiter.release(BASE_MS);
  assert.equal(limiter.acquire(), true);
  assert.deepEqual(limiter.stats, { limit: 4, inflight: 4, refused: 1, wouldRefuse: 1, samples: 1 });
});

test('AdaptiveLimit shadow mode refuses nothing, counts what it would have refused, and adapts the same', () => {
  const shadow = new AdaptiveLimit({ initialLimit: 10, shadow: true });
  const enforcing = new AdaptiveLimit({ initialLimit: 10 });
  for (let i = 0; i < 15; i++) assert.equal(shadow.acquire(), true);
  assert.deepEqual(shadow.stats, { limit: 10, inflight: 15, refused: 0, wouldRefuse: 5, samples: 0 });
  for (let i = 0; i < 10; i++) enforcing.acquire();
  for (let i = 0; i < 100; i++) {
    shadow.release(3 * BASE_MS);
    shadow.acquire();
    enforcing.release(3 * BASE_MS);
    enforcing.acquire();
  }
  assert.equal(shadow.limit, enforcing.limit);
});

test('AdaptiveLimit cuts at once on overload: a dropped open, an event-loop delay past the threshold', () => {
  const limiter = new AdaptiveLimit({ initialLimit: 100, maxEventLoopDelayMs: 100, backoff: 0.5 });
  limiter.observeEventLoopDelay(20);
  assert.equal(limiter.limit, 100);
  limiter.observeEventLoopDelay(250);
  assert.equal(limiter.limit, 50);
  limiter.acquire();
  limiter.release(BASE_MS, 'dropped');
  assert.equal(limiter.limit, 25);
  limiter.acquire();
  limiter.release(BASE_MS, 'ignore');
  assert.deepEqual([limiter.limit, limiter.stats.samples, limiter.stats.inflight], [25, 0, 0]);
  for (let i = 0; i < 100; i++) limiter.observeEventLoopDelay(1000);
  assert.equal(limiter.limit, 4, 'never below minLimit');
});
