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
});
