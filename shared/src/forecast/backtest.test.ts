import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { HOUR_MS, syntheticSeries } from '../test-support/synthetic-series.js';
import { backtest, type BacktestResult } from './backtest.js';

// y = 100 + 0.05 t + 20 sin(2 pi t / 24) [+ 10 sin(2 pi t / 168)], hourly; "5% noise" is sigma = 5 = 5% of the level.
const DAILY = { level: 100, slope: 0.05, waves: [[24, 20]] as Array<[number, number]> };
const WEEKLY = { level: 100, slope: 0.05, waves: [[24, 20], [168, 10]] as Array<[number, number]> };

const fmt = (r: BacktestResult) =>
  `MAPE ${r.mape?.toFixed(3)}%, MASE ${r.mase?.toFixed(3)}, ${Math.round(r.nominalCoverage * 100)}% interval coverage ${r.coverage?.toFixed(3)} over ${r.points} points in ${r.folds.length} folds`;

test('noise-free: MAPE under 1% at a one-season horizon, one season and two', (t) => {
  const single = backtest(syntheticSeries({ ...DAILY, noise: 0, points: 24 * 10 }), { horizon: 24, folds: 5, seasons: [24] });
  const double = backtest(syntheticSeries({ ...WEEKLY, noise: 0, points: 168 * 5 }), { horizon: 168, folds: 2 });
  t.diagnostic(`noise-free, season 24, horizon 24: ${fmt(single)}`);
  t.diagnostic(`noise-free, seasons 24+168, horizon 168: ${fmt(double)}`);
  assert.ok((single.mape as number) < 1);
  assert.ok((double.mape as number) < 1);
  assert.deepEqual(double.folds.map((f) => f.seasons), [[24, 168], [24, 168]]);
});

test('5% Gaussian noise, one daily season: better than seasonal naive, 80% intervals cover 70–90%', (t) => {
  const r = backtest(syntheticSeries({ ...DAILY, noise: 5, seed: 1, points: 24 * 14 }), { horizon: 24, folds: 8, seasons: [24] });
  t.diagnostic(`5% noise, season 24, horizon 24: ${fmt(r)}`);
  assert.ok((r.mase as number) < 1, `MASE ${r.mase}`);
  assert.ok((r.coverage as number) >= 0.7 && (r.coverage as number) <= 0.9, `coverage ${r.coverage}`);
});

test('5% Gaussian noise, daily and weekly seasons: better than seasonal naive, 80% intervals cover 70–90%', (t) => {
  const r = backtest(syntheticSeries({ ...WEEKLY, noise: 5, seed: 1, points: 168 * 4 }), { horizon: 24, folds: 8 });
  t.diagnostic(`5% noise, seasons 24+168, horizon 24: ${fmt(r)}`);
  assert.ok((r.mase as number) < 1, `MASE ${r.mase}`);
  assert.ok((r.coverage as number) >= 0.7 && (r.coverage as number) <= 0.9, `coverage ${r.coverage}`);
  const week = backtest(syntheticSeries({ ...WEEKLY, noise: 5, seed: 2, points: 168 * 5 }), { horizon: 168, folds: 2 });
  t.diagnostic(`5% noise, seasons 24+168, horizon 168: ${fmt(week)}`);
  assert.ok((week.mase as number) < 1, `MASE ${week.mase}`);
  assert.ok((week.coverage as number) >= 0.7 && (week.coverage as number) <= 0.9, `coverage ${week.coverage}`);
});

test('origins end one horizon before the series end, a stride apart, each fold fitted on what came before', () => {
  const series = syntheticSeries({ ...DAILY, noise: 2, points: 24 * 6 });
  const r = backtest(series, { horizon: 12, folds: 3, stride: 6, seasons: [24] });
  const last = series.points[series.points.length - 1].t;
  assert.deepEqual(r.folds.map((f) => f.origin), [last - 23 * HOUR_MS, last - 17 * HOUR_MS, last - 11 * HOUR_MS]);
  assert.deepEqual(r.folds.map((f) => f.trainingPoints), [24 * 6 - 24, 24 * 6 - 18, 24 * 6 - 12]);
  assert.equal(r.points, 36);
});

test('missing actual points are not scored', () => {
  const series = syntheticSeries({ ...DAILY, noise: 2, points: 24 * 6 });
  const gappy = { step: series.step, points: series.points.filter((_, i) => i !== 24 * 6 - 3 && i !== 24 * 6 - 30) };
  const r = backtest(gappy, { horizon: 24, folds: 2, seasons: [24] });
  // Origins at indices 96 and 120: index 114 is missing from the first fold's window, 141 from the second's.
  assert.equal(r.points, 46);
  assert.deepEqual(r.folds.map((f) => f.points), [23, 23]);
  assert.match(r.folds[1].notes.join('\n'), /1 of 120 training points were missing/);
});

test('a backtest asking for more than the series holds, or nonsense, is refused', () => {
  const series = syntheticSeries({ ...DAILY, noise: 0, points: 100 });
  const invalid = (pattern: RegExp) => ({ code: ErrorCode.INVALID_ARGUMENT, message: pattern });
  assert.throws(() => backtest(series, { horizon: 24, folds: 5 }), invalid(/5 folds of 24 steps .* need more than 120 points; the series spans 100: ask for fewer folds/));
  assert.throws(() => backtest(series, { horizon: 24, folds: 0 }), invalid(/folds/));
  assert.throws(() => backtest(series, { horizon: 24, folds: 1, stride: 0 }), invalid(/stride/));
  assert.throws(() => backtest({ step: HOUR_MS, points: [] }, { horizon: 24, folds: 1 }), invalid(/no points/));
  const brokenActual = { step: series.step, points: series.points.map((p, i) => (i === 99 ? { t: p.t, value: Infinity } : p)) };
  assert.throws(() => backtest(brokenActual, { horizon: 24, folds: 1 }), invalid(/is Infinity/));
});
