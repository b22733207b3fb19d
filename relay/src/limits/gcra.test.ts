import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from '@tether/shared';
import { ManualClock } from '../registry/registry-contract.js';
import { checkRule, gcraDecide, gcraSchedule } from './gcra.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';

test('gcraDecide: burst 3 passes at t0, the 4th is refused with retry-after T, state is unchanged by the refusal', () => {
  const rule = { rate: 1, periodMs: 1000, burst: 3 };
  let tat: number | undefined;
  for (let i = 0; i < 3; i++) {
    const d = gcraDecide(rule, 0, tat);
    assert.equal(d.allowed, true);
    tat = d.tat;
  }
  assert.equal(tat, 3000);
  assert.deepEqual(gcraDecide(rule, 0, tat), { allowed: false, tat: 3000, retryAfterMs: 1000, remaining: 0, resetAfterMs: 3000 });
  assert.equal(gcraDecide(rule, 999, tat).allowed, false);
  assert.equal(gcraDecide(rule, 1000, tat).allowed, true);
});

test('gcraDecide: an expired TAT counts as an idle bucket; cost 0 is a look that always passes', () => {
  const rule = { rate: 2, periodMs: 1000, burst: 2 };
  assert.deepEqual(gcraDecide(rule, 5000, 100), gcraDecide(rule, 5000, undefined));
  const look = gcraDecide(rule, 0, 1000, 0);
  assert.equal(look.allowed, true);
  assert.equal(look.remaining, 0);
});

test('gcraDecide refuses a cost it can never admit with INVALID_ARGUMENT', () => {
  for (const cost of [4, -1, Number.NaN]) {
    assert.throws(() => gcraDecide({ rate: 1, periodMs: 1000, burst: 3 }, 0, undefined, cost), { code: ErrorCode.INVALID_ARGUMENT }, String(cost));
  }
});

test('gcraSchedule never refuses: idle credit covers a burst, debt beyond it is waited out', () => {
  const rule = { rate: 1000, periodMs: 1000, burst: 100 };
  let s = gcraSchedule(rule, 0, undefined, 100);
  assert.equal(s.waitMs, 0);
  s = gcraSchedule(rule, 0, s.tat, 400);
  assert.equal(s.waitMs, 400, 'four hundred bytes beyond the credit at 1000 B/s');
  s = gcraSchedule(rule, 0, s.tat, 5000);
  assert.equal(s.waitMs, 5400, 'larger than the burst: a longer wait, never a refusal');
  assert.equal(gcraSchedule(rule, 10_000, s.tat, 50).waitMs, 0, 'idle long enough: credit again');
});

test('checkRule names what is wrong', () => {
  const cases: [unknown, RegExp][] = [
    [{ rate: 0, periodMs: 1000, burst: 1 }, /x\.rate must be a positive number/],
    [{ rate: 1, periodMs: 1.5, burst: 1 }, /x\.periodMs must be a positive integer/],
    [{ rate: 1, periodMs: 1000, burst: 0 }, /x\.burst/],
    [{ rate: 1, periodMs: 1000, burst: 1, lockoutMs: -5 }, /x\.lockoutMs/],
    [{ rate: 1, periodMs: 1000, burst: 1, onStoreDown: 'maybe' }, /x\.onStoreDown must be local, open or closed/],
  ];
  for (const [rule, message] of cases) assert.throws(() => checkRule(rule as never, 'x'), { code: ErrorCode.INVALID_CONFIG, message });
  checkRule({ rate: 0.5, periodMs: 1000, burst: 1, lockoutMs: 0, onStoreDown: 'closed' }, 'x');
});

// Arrival times (integer milliseconds, any order of generation, sorted) with costs, against a
// random rule: whatever the arrivals, no window [s, s + W] admits more than burst + rate·W/period.
test('property: the memory store admits at most burst + rate·W/period in any window of length W', () => {
  const rules = fc.record({ rate: fc.integer({ min: 1, max: 50 }), periodMs: fc.integer({ min: 1, max: 10_000 }), burst: fc.integer({ min: 1, max: 20 }) });
  const arrivals = fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 300 });
  fc.assert(
    fc.property(rules, arrivals, (rule, events) => {
      const clock = new ManualClock();
      const store = new MemoryRateLimitStore(clock);
      const admitted: [number, number][] = [];
      for (const [at, rawCost] of [...events].sort((a, b) => a[0] - b[0])) {
        const cost = Math.min(rawCost, rule.burst);
        clock.t = at;
        if (store.decide('k', rule, cost).allowed) admitted.push([at, cost]);
      }
      // The fullest windows start and end at admitted events: check every such pair.
      for (let i = 0; i < admitted.length; i++) {
        let taken = 0;
        for (let j = i; j < admitted.length; j++) {
          taken += admitted[j][1];
          const bound = rule.burst + (rule.rate * (admitted[j][0] - admitted[i][0])) / rule.periodMs;
          if (taken > bound + 1e-9) return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

test('property: a bucket kept busy admits the long-run rate (the limit is not stricter than configured)', () => {
  fc.assert(
    // Burst 2 or more: with burst 1 there is no jitter tolerance, and an arrival on the next whole
    // millisecond after a TAT that is not whole (T = 1000 / 11) loses the difference, by design.
    fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 2, max: 10 }), fc.integer({ min: 1, max: 50 }), (rate, burst, periods) => {
      const rule = { rate, periodMs: 1000, burst };
      const clock = new ManualClock();
      clock.t = 0;
      const store = new MemoryRateLimitStore(clock);
      let admitted = 0;
      // One attempt every millisecond for `periods` periods, ends included.
      for (let t = 0; t <= periods * 1000; t++) {
        clock.t = t;
        while (store.decide('k', rule).allowed) admitted++;
      }
      return admitted === burst + rate * periods;
    }),
    { numRuns: 30 },
  );
});
