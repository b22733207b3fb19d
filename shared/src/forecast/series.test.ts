import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { regularise } from './series.js';

const step = 60_000;
const at = (k: number, value: number) => ({ t: 1_000_000 * step + k * step, value });
const invalid = (pattern: RegExp) => ({ code: ErrorCode.INVALID_ARGUMENT, message: pattern });

test('an even series comes back as its values, nothing filled', () => {
  const r = regularise({ step, points: [at(0, 1), at(1, 2), at(2, 4)] });
  assert.deepEqual(r.values, [1, 2, 4]);
  assert.equal(r.filledCount, 0);
  assert.equal(r.start, at(0, 0).t);
});

test('missing points are filled by linear interpolation and counted', () => {
  const r = regularise({ step, points: [at(0, 10), at(4, 30), at(5, 31)] });
  assert.deepEqual(r.values, [10, 15, 20, 25, 30, 31]);
  assert.deepEqual(r.filled, [false, true, true, true, false, false]);
  assert.equal(r.filledCount, 3);
});

test('with gap filling off, a gap is refused and the message says where', () => {
  assert.throws(() => regularise({ step, points: [at(0, 1), at(3, 2)] }, { fillGaps: false }), invalid(/2 point\(s\) missing before t=/));
});

test('bad input is refused with INVALID_ARGUMENT and a message saying what to do', () => {
  assert.throws(() => regularise({ step, points: [] }), invalid(/no points/));
  assert.throws(() => regularise({ step: 0, points: [at(0, 1)] }), invalid(/step must be a positive whole number/));
  assert.throws(() => regularise({ step: 1.5, points: [at(0, 1)] }), invalid(/step/));
  assert.throws(() => regularise({ step, points: [at(0, 1), at(1, NaN)] }), invalid(/is NaN; drop the point/));
  assert.throws(() => regularise({ step, points: [at(0, 1), at(1, Infinity)] }), invalid(/Infinity/));
  assert.throws(() => regularise({ step, points: [at(0, 1), { t: at(1, 0).t + 1000, value: 2 }] }), invalid(/not on the 60000 ms grid.*roll the series up/));
  assert.throws(() => regularise({ step, points: [at(0, 1), at(2, 2), at(1, 3)] }), invalid(/times must increase.*sort/));
  assert.throws(() => regularise({ step, points: [at(0, 1), at(1, 2), at(1, 3)] }), invalid(/merge repeats/));
  assert.throws(() => regularise({ step, points: [{ t: NaN, value: 1 }] }), invalid(/non-finite time/));
});
