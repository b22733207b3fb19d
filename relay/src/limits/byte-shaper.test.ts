import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../registry/registry-contract.js';
import { ByteShaper } from './byte-shaper.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';

const MiB = 1024 * 1024;
const perSecond = (bytes: number, burst: number) => ({ rate: bytes, periodMs: 1000, burst });

test('ByteShaper: off by default, on when a rate is set', () => {
  const store = new MemoryRateLimitStore(new ManualClock());
  assert.equal(new ByteShaper(store, { perTunnel: false, perUser: false }).enabled, false);
  assert.equal(new ByteShaper(store, { perTunnel: false, perUser: false }).delayFor('web', 1, MiB), 0);
  assert.equal(new ByteShaper(store, { perTunnel: perSecond(MiB, MiB), perUser: false }).enabled, true);
});

test('ByteShaper: a burst passes at once, more waits at the rate, and a sender that waits as told gets exactly the rate', () => {
  const clock = new ManualClock();
  const shaper = new ByteShaper(new MemoryRateLimitStore(clock), { perTunnel: perSecond(MiB, 256 * 1024), perUser: false });
  assert.equal(shaper.delayFor('web', 1, 256 * 1024), 0, 'the burst');
  assert.equal(shaper.delayFor('web', 1, 512 * 1024), 500, 'half a MiB beyond the credit: half a second');
  // A sender that sleeps each delay, 64 KiB at a time, for ten seconds of manual time.
  let sent = 0;
  const start = clock.t;
  while (clock.t - start < 10_000) {
    const wait = shaper.delayFor('web', 1, 64 * 1024);
    clock.t += wait;
    if (clock.t - start <= 10_000) sent += 64 * 1024;
  }
  // Ten seconds at the rate, plus the burst's credit, minus the 768 KiB charged before the loop.
  assert.equal(sent, 10 * MiB + 256 * 1024 - 768 * 1024);
});

test('ByteShaper: the user\'s rate binds across their tunnels; the longer wait wins; nothing is ever refused', () => {
  const clock = new ManualClock();
  const shaper = new ByteShaper(new MemoryRateLimitStore(clock), { perTunnel: perSecond(10 * MiB, MiB), perUser: perSecond(MiB, MiB) });
  assert.equal(shaper.delayFor('a', 1, MiB), 0);
  assert.equal(shaper.delayFor('b', 1, MiB), 1000, 'tunnel b is idle, but user 1 spent its credit on a');
  assert.equal(shaper.delayFor('c', 2, MiB), 0, 'another user is not slowed');
  assert.equal(shaper.delayFor('a', 1, 100 * MiB), 101_000, 'a chunk far beyond every burst: a long wait, not a refusal');
});
