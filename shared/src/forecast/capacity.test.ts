import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { EPOCH, HOUR_MS, syntheticSeries } from '../test-support/synthetic-series.js';
import { capacityCrossing } from './capacity.js';
import { forecast } from './forecast.js';

test('on a linear trend the crossing is the first step at or above capacity', () => {
  // y_i = 10 + 0.5 i: 60.25 is first reached at i = 101, the 52nd forecast point after 50 observed.
  const line = syntheticSeries({ level: 10, slope: 0.5, waves: [], noise: 0, points: 50 });
  const f = forecast(line, { horizon: 100, seasons: [] });
  const c = capacityCrossing(f, 60.25);
  assert.equal(c.point?.index, 51);
  assert.equal(c.point?.t, EPOCH + 101 * HOUR_MS);
  assert.ok(Math.abs((c.point?.value ?? 0) - 60.5) < 1e-9);
  assert.equal(c.upper?.index, 51, 'no noise: the interval has no width');
});

test('with a seasonal, noisy trend the upper bound crosses no later than the point forecast', () => {
  const series = syntheticSeries({ level: 100, slope: 0.1, waves: [[24, 20]], noise: 5, seed: 3, points: 24 * 7 });
  const f = forecast(series, { horizon: 24 * 7, seasons: [24] });
  const c = capacityCrossing(f, 150);
  assert.ok(c.point !== null && c.upper !== null);
  assert.ok(c.upper.index <= c.point.index);
  assert.ok(f.points[c.point.index].value >= 150);
  for (let i = 0; i < c.point.index; i++) assert.ok(f.points[i].value < 150);
});

test('a flat series never reaches a capacity above it', () => {
  const flat = syntheticSeries({ level: 50, slope: 0, waves: [], noise: 0, points: 48 });
  const c = capacityCrossing(forecast(flat, { horizon: 500, seasons: [] }), 60);
  assert.deepEqual(c, { capacity: 60, point: null, upper: null });
  const noisy = syntheticSeries({ level: 50, slope: 0, waves: [[24, 3]], noise: 1, seed: 9, points: 24 * 6 });
  assert.equal(capacityCrossing(forecast(noisy, { horizon: 48, seasons: [24] }), 60).point, null);
});

test('already at capacity crosses at the first point; a bad capacity is refused', () => {
  const flat = syntheticSeries({ level: 50, slope: 0, waves: [], noise: 0, points: 48 });
  const f = forecast(flat, { horizon: 5, seasons: [] });
  assert.equal(capacityCrossing(f, 50).point?.index, 0);
  assert.throws(() => capacityCrossing(f, NaN), { code: ErrorCode.INVALID_ARGUMENT, message: /capacity must be a finite number/ });
});
