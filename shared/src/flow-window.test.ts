/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReceiveWindow } from './flow-window.js';
import { Prng } from './test-support/testing.js';

describe('ReceiveWindow credit', () => {
  test('accepts exactly the initial window and flags one byte more', () => {
    const w = new ReceiveWindow(1000, 1000, 0);
    assert.equal(w.onReceive(600), true);
    assert.equal(w.onReceive(400), true);
    assert.equal(w.buffered, 1000);
    assert.equal(w.onReceive(1), false);
  });

  test('a single oversized receive is a violation', () => {
    const w = new ReceiveWindow(1000, 1000, 0);
    assert.equal(w.onReceive(1001), false);
  });

  test('credit returned by an update can be used, and not a byte more', () => {
    const w = new ReceiveWindow(1000, 1000, 0);
    assert.equal(w.onReceive(1000), true);
    const increment = w.onConsume(300, 0, 0);
    assert.equal(increment, 300);
    assert.equal(w.onReceive(300), true);
    assert.equal(w.onReceive(1), false);
  });

  test('consuming more than was received does not create credit', () => {
    const w = new ReceiveWindow(1000, 1000, 0);
    w.onReceive(100);
    assert.equal(w.onConsume(5000, 0, 0), 0);
    assert.equal(w.buffered, 0);
    assert.equal(w.onReceive(900), true);
    assert.equal(w.onReceive(1), false);
  });
});

describe('ReceiveWindow update threshold', () => {
  test('no update until a quarter of the window is consumed', () => {
    const w = new ReceiveWindow(1000, 1000, 0);
    w.onReceive(1000);
    assert.equal(w.onConsume(249, 0, 0), 0);
    assert.equal(w.onConsume(1, 0, 0), 250);
  });

  test('small consumptions accumulate into one update', () => {
    const w = new ReceiveWindow(1000, 1000, 0);
    w.onReceive(1000);
    const increments = Array.from({ length: 10 }, () => w.onConsume(50, 0, 0));
    assert.deepEqual(increments, [0, 0, 0, 0, 250, 0, 0, 0, 0, 250]);
  });
});

describe('ReceiveWindow auto-tuning', () => {
  const rtt = 10;

  test('doubles when a quarter window is consumed faster than one RTT', () => {
    const w = new ReceiveWindow(1000, 8000, 0);
    w.onReceive(250);
    // 250 of 1000 bytes in 1 ms with a 10 ms RTT: the window is what limits the link.
    const increment = w.onConsume(250, 1, rtt);
    assert.equal(w.size, 2000);
    // The new limit is consumed + new size: 250 + 2000, up from 1000.
    assert.equal(increment, 1250);
    assert.equal(w.onReceive(2000), true);
    assert.equal(w.onReceive(1), false);
  });

  test('stays put when consumption is slow relative to the RTT', () => {
    const w = new ReceiveWindow(1000, 8000, 0);
    w.onReceive(250);
    assert.equal(w.onConsume(250, 4 * 0.25 * rtt, rtt), 250);
    assert.equal(w.size, 1000);
  });

  test('stays put while the RTT is unknown', () => {
    const w = new ReceiveWindow(1000, 8000, 0);
    w.onReceive(1000);
    assert.equal(w.onConsume(1000, 0, 0), 1000);
    assert.equal(w.size, 1000);
  });

  test('measures each epoch from the previous update', () => {
    const w = new ReceiveWindow(1000, 8000, 0);
    w.onReceive(500);
    w.onConsume(250, 100, rtt); // slow: no growth, epoch restarts at t=100
    assert.equal(w.size, 1000);
    w.onConsume(250, 101, rtt); // 250 bytes in 1 ms since the last update: fast
    assert.equal(w.size, 2000);
  });

  test('is capped at maxWindow', () => {
    const w = new ReceiveWindow(1000, 3000, 0);
    const sizes: number[] = [];
    for (let t = 1; t <= 6; t++) {
      w.onReceive(w.size);
      w.onConsume(w.size, t * 0.001, rtt);
      sizes.push(w.size);
    }
    assert.deepEqual(sizes, [2000, 3000, 3000, 3000, 3000, 3000]);
  });

  test('a maxWindow below the initial window never shrinks it', () => {
    const w = new ReceiveWindow(1000, 10, 0);
    w.onReceive(1000);
    w.onConsume(1000, 0.001, rtt);
    assert.equal(w.size, 1000);
  });
});

test('a sender that respects every increment never violates the window (random schedule)', () => {
  const seed = 0x5eed;
  const rng = new Prng(seed);
  const w = new ReceiveWindow(4096, 65536, 0);
  let credit = 4096;
  let unconsumed = 0;
  let now = 0;
  for (let i = 0; i < 20_000; i++) {
    now += rng.int(3);
    if (credit > 0 && rng.chance(0.6)) {
      const n = 1 + rng.int(credit);
      credit -= n;
      unconsumed += n;
      assert.equal(w.onReceive(n), true, `violation at step ${i} (seed ${seed})`);
    } else if (unconsumed > 0) {
      const n = 1 + rng.int(unconsumed);
      unconsumed -= n;
      credit += w.onConsume(n, now, rng.pick([0, 1, 50]));
    }
    assert.ok(w.size <= 65536);
  }
  // The sender's view and the receiver's agree exactly: one more byte than the credit is refused.
  assert.equal(w.onReceive(credit), true);
  assert.equal(w.onReceive(1), false);
});
