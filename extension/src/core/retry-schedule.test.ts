import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Backoff } from './backoff.js';
import { RetrySchedule } from './retry-schedule.js';

describe('RetrySchedule', () => {
  function schedule(t: TestContext) {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let clock = 1000;
    let dues = 0;
    // random() = 1: every delay is its ceiling (100, 200, 400, then the cap).
    const retry = new RetrySchedule(new Backoff(100, 500, () => 1), 5000, () => clock, () => dues++);
    return { retry, dues: () => dues, setClock: (ms: number) => (clock = ms) };
  }

  test('becomes due after the backoff delay, which grows with each failure up to the cap', (t) => {
    const { retry, dues } = schedule(t);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      retry.schedule(false);
      assert.equal(retry.scheduled, true);
      const delay = (retry.at ?? 0) - 1000;
      delays.push(delay);
      t.mock.timers.tick(delay - 1);
      assert.equal(retry.due, false);
      t.mock.timers.tick(1);
      assert.equal(retry.due, true);
      assert.equal(retry.scheduled, false);
      assert.equal(retry.at, undefined);
      retry.clear();
    }
    assert.deepEqual(delays, [100, 200, 400, 500]);
    assert.equal(dues(), 4);
  });

  test('an endpoint that refused us is asked again only at the slowest pace', (t) => {
    const { retry } = schedule(t);
    retry.schedule(true);
    assert.equal(retry.at, 6000);
    retry.schedule(false);
    assert.equal((retry.at ?? 0) - 1000, 100, 'the slow pace did not advance the backoff');
  });

  test('clear() stops the timer; resetBackoff() starts the delays over', (t) => {
    const { retry, dues } = schedule(t);
    retry.schedule(false);
    retry.clear();
    t.mock.timers.tick(10_000);
    assert.equal(dues(), 0);
    assert.equal(retry.due, false);
    retry.schedule(false);
    retry.clear();
    retry.resetBackoff();
    retry.schedule(false);
    assert.equal((retry.at ?? 0) - 1000, 100);
  });

  describe('while waiting, the health watch', () => {
    function watched(t: TestContext, healthy: () => boolean) {
      t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
      let dues = 0;
      let checks = 0;
      const check = (): Promise<void> => {
        checks++;
        return healthy() ? Promise.resolve() : Promise.reject(new Error('down'));
      };
      // Delays of 10 s (random() = 1 puts each at its ceiling), checked every 2 s.
      const retry = new RetrySchedule(new Backoff(10_000, 30_000, () => 1), 30_000, () => 0, () => dues++, { everyMs: 2000, check });
      return { retry, dues: () => dues, checks: () => checks };
    }
    const settle = () => new Promise<void>((r) => setImmediate(r));

    test('fires the retry as soon as the endpoint answers, not after the rest of the delay', async (t) => {
      let up = false;
      const { retry, dues, checks } = watched(t, () => up);
      retry.schedule(false);
      t.mock.timers.tick(4000);
      await settle();
      assert.equal(checks(), 2);
      assert.equal(dues(), 0);
      up = true;
      t.mock.timers.tick(2000);
      await settle();
      assert.equal(dues(), 1);
      assert.equal(retry.due, true);
      assert.equal(retry.scheduled, false);
      // Fired once: neither the watch nor the original timer fires again.
      t.mock.timers.tick(20_000);
      await settle();
      assert.equal(dues(), 1);
      assert.equal(checks(), 3);
    });

    test("a relay's Retry-After longer than the backoff: waited in full, with no health watch cutting it short", async (t) => {
      const { retry, dues, checks } = watched(t, () => true);
      retry.schedule(false, 25_000);
      assert.equal(retry.at, 25_000);
      t.mock.timers.tick(24_999);
      await settle();
      assert.equal(checks(), 0);
      assert.equal(dues(), 0);
      t.mock.timers.tick(1);
      assert.equal(dues(), 1);
      // Shorter than the backoff: the backoff (and its watch) as usual.
      retry.clear();
      retry.schedule(false, 1000);
      assert.equal(retry.at, 20_000);
    });

    test('does not run for an endpoint that refused us, nor after clear()', async (t) => {
      const { retry, checks } = watched(t, () => true);
      retry.schedule(true);
      t.mock.timers.tick(10_000);
      await settle();
      assert.equal(checks(), 0);
      retry.clear();
      retry.schedule(false);
      retry.clear();
      t.mock.timers.tick(10_000);
      await settle();
      assert.equal(checks(), 0);
    });
  });
});
