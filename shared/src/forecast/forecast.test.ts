import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { EPOCH, HOUR_MS, syntheticSeries } from '../test-support/synthetic-series.js';
import { forecast } from './forecast.js';
import type { TimeSeries } from './series.js';

const invalid = (pattern: RegExp) => ({ code: ErrorCode.INVALID_ARGUMENT, message: pattern });
const DAILY = { level: 100, slope: 0.05, waves: [[24, 20]] as Array<[number, number]> };
const WEEKLY = { level: 100, slope: 0.05, waves: [[24, 20], [168, 10]] as Array<[number, number]> };

/** MAPE (percent) of a forecast against the noise-free truth it was made from. */
function mapeAgainst(truth: TimeSeries, f: ReturnType<typeof forecast>): number {
  const byTime = new Map(truth.points.map((p) => [p.t, p.value]));
  let sum = 0;
  for (const p of f.points) {
    const actual = byTime.get(p.t) as number;
    sum += Math.abs(p.value - actual) / Math.abs(actual);
  }
  return (100 * sum) / f.points.length;
}

test('noise-free, one daily season: MAPE under 1% over a one-season horizon', (t) => {
  const truth = syntheticSeries({ ...DAILY, noise: 0, points: 24 * 6 });
  const start = EPOCH + 24 * 5 * HOUR_MS;
  const f = forecast(truth, { start, horizon: 24, seasons: [24] });
  const mape = mapeAgainst(truth, f);
  t.diagnostic(`single season, noise-free: MAPE ${mape.toExponential(2)}% over 24 h`);
  assert.ok(mape < 1, `MAPE ${mape}%`);
  assert.deepEqual(f.model.seasons, [24]);
  assert.equal(f.points.length, 24);
  assert.equal(f.points[0].t, start);
});

test('noise-free, daily and weekly seasons (default at an hourly step): MAPE under 1% over a week', (t) => {
  const truth = syntheticSeries({ ...WEEKLY, noise: 0, points: 168 * 4 });
  const start = EPOCH + 168 * 3 * HOUR_MS;
  const f = forecast(truth, { start, horizon: 168 });
  const mape = mapeAgainst(truth, f);
  t.diagnostic(`two seasons, noise-free: MAPE ${mape.toExponential(2)}% over 168 h`);
  assert.ok(mape < 1, `MAPE ${mape}%`);
  assert.deepEqual(f.model.seasons, [24, 168]);
  assert.deepEqual(f.notes, []);
});

test('the forecast uses only points before its start: changing or adding later points changes nothing', () => {
  const series = syntheticSeries({ ...WEEKLY, noise: 5, seed: 7, points: 168 * 4 });
  const start = series.points[168 * 3].t;
  const later = {
    step: series.step,
    points: [
      ...series.points.map((p) => (p.t >= start ? { t: p.t, value: p.value * 3 + 1000 } : p)),
      ...Array.from({ length: 50 }, (_, i) => ({ t: start + (168 + i) * HOUR_MS, value: -1e6 })),
    ],
  };
  const truncated = { step: series.step, points: series.points.filter((p) => p.t < start) };
  const a = forecast(series, { start, horizon: 48 });
  assert.deepEqual(forecast(later, { start, horizon: 48 }), a);
  assert.deepEqual(forecast(truncated, { horizon: 48 }), a);
  // ... and a gap straddling the start is filled from earlier points only, not the one after it.
  const gappy = { step: series.step, points: series.points.filter((p) => p.t < start - 3 * HOUR_MS || p.t >= start) };
  const g = forecast(gappy, { start, horizon: 48 });
  assert.equal(g.model.trainingEnd, start - 4 * HOUR_MS);
  assert.deepEqual(g, forecast({ step: series.step, points: gappy.points.filter((p) => p.t < start) }, { start, horizon: 48 }));
});

test('a start after the last training point forecasts across the gap and returns points from the start', () => {
  const series = syntheticSeries({ ...DAILY, noise: 0, points: 24 * 3 });
  const end = series.points[series.points.length - 1].t;
  const f = forecast(series, { start: end + 5 * HOUR_MS, horizon: 10, seasons: [24] });
  assert.equal(f.points[0].t, end + 5 * HOUR_MS);
  const i = 24 * 3 + 4;
  const truth = 100 + 0.05 * i + 20 * Math.sin((2 * Math.PI * i) / 24);
  assert.ok(Math.abs(f.points[0].value - truth) < 1e-6, `${f.points[0].value} vs ${truth}`);
});

test('too little history for the weekly season: it is dropped and the result says so', () => {
  const series = syntheticSeries({ ...WEEKLY, noise: 1, points: 200 });
  const f = forecast(series, { horizon: 24 });
  assert.deepEqual(f.model.seasons, [24]);
  assert.deepEqual(f.model.droppedSeasons, [168]);
  assert.match(f.notes[0], /season of 168 steps dropped: it needs at least 336 training points/);
  const shorter = forecast({ step: series.step, points: series.points.slice(0, 30) }, { horizon: 5 });
  assert.deepEqual(shorter.model.seasons, []);
  assert.deepEqual(shorter.model.droppedSeasons, [168, 24]);
});

test('filled gaps are reported', () => {
  const series = syntheticSeries({ ...DAILY, noise: 1, points: 24 * 4 });
  // Points 5, 15, ..., 85 go missing (95 too, but as the last point it just shortens the series).
  const gappy = { step: series.step, points: series.points.filter((_, i) => i % 10 !== 5) };
  const f = forecast(gappy, { horizon: 24, seasons: [24] });
  assert.equal(f.model.filledPoints, 9);
  assert.equal(f.model.trainingPoints, 95);
  assert.match(f.notes.join('\n'), /9 of 95 training points were missing and filled by linear interpolation/);
  assert.throws(() => forecast(gappy, { horizon: 24, fillGaps: false }), invalid(/missing/));
});

test('the intervals widen with the horizon and hold the point forecast at the asked coverage', () => {
  const series = syntheticSeries({ ...WEEKLY, noise: 5, points: 168 * 3 });
  const f80 = forecast(series, { horizon: 168 });
  const f95 = forecast(series, { horizon: 168, coverage: 0.95 });
  assert.equal(f80.coverage, 0.8);
  for (let i = 0; i < 168; i++) {
    const p = f80.points[i];
    assert.ok(p.lower < p.value && p.value < p.upper);
    assert.ok(f95.points[i].upper - f95.points[i].lower > p.upper - p.lower);
    if (i > 0) assert.ok(p.upper - p.lower >= f80.points[i - 1].upper - f80.points[i - 1].lower - 1e-9);
  }
});

test('bad options and too-short input are refused with INVALID_ARGUMENT', () => {
  const series = syntheticSeries({ ...DAILY, noise: 0, points: 24 * 3 });
  assert.throws(() => forecast(series, { horizon: 0 }), invalid(/horizon is a whole number of steps/));
  assert.throws(() => forecast(series, { horizon: 2.5 }), invalid(/horizon/));
  assert.throws(() => forecast(series, { horizon: 5, coverage: 1 }), invalid(/coverage is a fraction strictly between 0 and 1/));
  assert.throws(() => forecast(series, { horizon: 5, coverage: 80 }), invalid(/coverage/));
  assert.throws(() => forecast(series, { horizon: 5, seasons: [24, 100] }), invalid(/each be a multiple of the one before/));
  assert.throws(() => forecast(series, { horizon: 5, seasons: [1] }), invalid(/at least 2/));
  assert.throws(() => forecast(series, { horizon: 5, start: series.points[10].t + 1 }), invalid(/not on the series' 3600000 ms grid/));
  assert.throws(() => forecast(series, { horizon: 5, start: series.points[3].t }), invalid(/at least 4 points before its start.*there are 3; collect more history/));
  assert.throws(() => forecast({ step: HOUR_MS, points: [] }, { horizon: 5 }), invalid(/no points/));
  assert.throws(() => forecast({ step: -1, points: series.points }, { horizon: 5 }), invalid(/step/));
  const broken = { step: HOUR_MS, points: series.points.map((p, i) => (i === 40 ? { t: p.t, value: NaN } : p)) };
  assert.throws(() => forecast(broken, { horizon: 5 }), invalid(/value at t=.* is NaN/));
});
