import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import type { RateLimitStore, RateRule } from '../ports/rate-limit-store.js';
import { ManualClock } from '../registry/registry-contract.js';

/** Opens a fresh store whose time is `clock`'s (the Redis store is told to use it instead of TIME). */
export type RateLimitStoreFactory = (clock: ManualClock) => Promise<RateLimitStore>;

/** T = 10 s, τ = 60 s: six at once, then one every ten seconds. */
const perMinute: RateRule = { rate: 6, periodMs: 60_000, burst: 6 };
/** A byte budget: 1000 bytes per second, 500 at once. */
const bytes: RateRule = { rate: 1000, periodMs: 1000, burst: 500 };
/** Five failures, then locked for ten minutes. */
const signIns: RateRule = { rate: 5, periodMs: 60_000, burst: 5, lockoutMs: 600_000 };

/**
 * The behaviour every RateLimitStore must have, run on memory, a standalone Redis and a Redis
 * Cluster. Time is a manual clock: no test waits or depends on how fast the machine is.
 */
export function rateLimitStoreContract(name: string, factory: RateLimitStoreFactory): void {
  const withStore = (title: string, body: (store: RateLimitStore, clock: ManualClock) => Promise<void>): void => {
    test(title, async (t) => {
      const clock = new ManualClock();
      const store = await factory(clock);
      t.after(() => store.close());
      await body(store, clock);
    });
  };

  describe(`RateLimitStore contract: ${name}`, () => {
    withStore('burst B passes at t0, the next is refused with a retry-after of one interval, and k more pass after k intervals', async (store, clock) => {
      for (let i = 0; i < 6; i++) {
        const d = await store.take('k', perMinute);
        assert.equal(d.allowed, true, `burst event ${i}`);
        assert.equal(d.remaining, 5 - i);
        assert.equal(d.limit, 6);
      }
      const refused = await store.take('k', perMinute);
      assert.deepEqual(refused, { allowed: false, retryAfterMs: 10_000, remaining: 0, resetAfterMs: 60_000, limit: 6 });
      clock.t += 9_999;
      assert.equal((await store.take('k', perMinute)).allowed, false, 'a millisecond early');
      clock.t += 1;
      for (let k = 1; k <= 3; k++) {
        assert.equal((await store.take('k', perMinute)).allowed, true, `period ${k}`);
        const again = await store.take('k', perMinute);
        assert.equal(again.allowed, false, `only one in period ${k}`);
        assert.equal(again.retryAfterMs, 10_000);
        clock.t += 10_000;
      }
      clock.t += 60_000;
      for (let i = 0; i < 6; i++) assert.equal((await store.take('k', perMinute)).allowed, true, `a full burst again after a quiet minute (${i})`);
    });

    withStore('keys have buckets of their own', async (store) => {
      for (let i = 0; i < 6; i++) await store.take('a', perMinute);
      assert.equal((await store.take('a', perMinute)).allowed, false);
      assert.equal((await store.take('b', perMinute)).allowed, true);
    });

    withStore('a cost above 1 takes that many (byte budgets), and a refused take takes nothing', async (store, clock) => {
      assert.deepEqual(await store.take('bytes', bytes, 300), { allowed: true, retryAfterMs: 0, remaining: 200, resetAfterMs: 300, limit: 500 });
      const refused = await store.take('bytes', bytes, 300);
      assert.equal(refused.allowed, false);
      assert.equal(refused.retryAfterMs, 100);
      assert.equal(refused.remaining, 200);
      assert.equal((await store.take('bytes', bytes, 200)).allowed, true, 'the refused 300 took nothing');
      clock.t += 250;
      assert.equal((await store.take('bytes', bytes, 250)).allowed, true);
      assert.equal((await store.take('bytes', bytes, 1)).allowed, false);
    });

    withStore('a cost larger than the burst can never pass: INVALID_ARGUMENT', async (store) => {
      await assert.rejects(store.take('bytes', bytes, 501), { code: ErrorCode.INVALID_ARGUMENT });
    });

    withStore('peek decides without taking; reset forgets the bucket', async (store) => {
      for (let i = 0; i < 5; i++) await store.take('p', perMinute);
      const look = await store.peek('p', perMinute);
      assert.equal(look.allowed, true);
      assert.equal(look.remaining, 0, 'remaining after the peeked take');
      assert.equal((await store.peek('p', perMinute)).allowed, true, 'the peek took nothing');
      assert.equal((await store.take('p', perMinute)).allowed, true);
      assert.equal((await store.peek('p', perMinute)).allowed, false);
      await store.reset('p');
      assert.equal((await store.peek('p', perMinute)).remaining, 5);
    });

    withStore('lockout: the take that empties the bucket locks it for lockoutMs, then one event per interval', async (store, clock) => {
      for (let i = 0; i < 4; i++) assert.equal((await store.take('user', signIns)).allowed, true);
      assert.equal((await store.peek('user', signIns)).allowed, true, 'four failures: not locked');
      assert.equal((await store.take('user', signIns)).allowed, true, 'the fifth failure is recorded');
      const locked = await store.peek('user', signIns);
      assert.equal(locked.allowed, false);
      assert.equal(locked.retryAfterMs, 600_000);
      clock.t += 599_999;
      assert.equal((await store.take('user', signIns)).allowed, false, 'still locked');
      clock.t += 1;
      assert.equal((await store.take('user', signIns)).allowed, true, 'the lock is over');
      const relocked = await store.peek('user', signIns);
      assert.equal(relocked.allowed, false, 'that failure emptied the bucket again');
      assert.equal(relocked.retryAfterMs, 600_000);
    });

    withStore('concurrent takes on one key admit exactly the burst', async (store) => {
      const decisions = await Promise.all(Array.from({ length: 20 }, () => store.take('c', perMinute)));
      assert.equal(decisions.filter((d) => d.allowed).length, 6);
    });
  });
}
