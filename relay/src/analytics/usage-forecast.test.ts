import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCounters, type UsageRow } from '../ports/usage-store.js';
import { aggregate, usageSeries } from './aggregate.js';
import { forecastUsage, parseHorizon } from './usage-forecast.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const row = (bucket: number, tunnel: string, more: Partial<UsageRow> = {}): UsageRow => ({ step: 'hour', bucket, tunnel, user: 'alice', node: 'n1', ...emptyCounters(), ...more });

test('parseHorizon takes whole hours, days and weeks up to a year, and says what to give otherwise', () => {
  assert.equal(parseHorizon('48h'), 48 * HOUR);
  assert.equal(parseHorizon('7d'), 168 * HOUR);
  assert.equal(parseHorizon('1w2d3h'), (168 + 48 + 3) * HOUR);
  for (const bad of ['', '0h', '30m', '7', '366d', 'soon', '2h7d']) {
    assert.throws(() => parseHorizon(bad), { code: 'TETHER_ERR_INVALID_ARGUMENT', message: /horizon must be a duration .* \(e\.g\. 48h, 7d, 2w\)/ }, bad);
  }
});

test('aggregate merges rows per tunnel, user or node; usageSeries fills hours without rows with 0 and leaves the current hour out', () => {
  const rows = [row(T0, 'web', { bytesUp: 1, peak: 2 }), row(T0, 'web', { user: 'bob', bytesUp: 2, peak: 1, failed: { '3': 1 } }), row(T0, 'db', { bytesDown: 4, opened: 1 }), row(T0 + 2 * HOUR, 'web', { bytesUp: 8, peak: 1 })];
  assert.deepEqual(aggregate(rows, 'tunnel').map((r) => [r.time, r.key, r.bytesUp, r.bytesDown, r.peak, r.failed]), [
    ['2026-11-01T00:00:00.000Z', 'db', 0, 4, 0, {}],
    ['2026-11-01T00:00:00.000Z', 'web', 3, 0, 3, { '3': 1 }],
    ['2026-11-01T02:00:00.000Z', 'web', 8, 0, 1, {}],
  ]);
  assert.deepEqual(aggregate(rows, 'user').map((r) => r.key), ['alice', 'bob', 'alice']);
  assert.deepEqual(aggregate(rows, 'node').map((r) => [r.key, r.bytesUp]), [['n1', 3], ['n1', 8]]);
  assert.deepEqual(usageSeries(rows, 'bytes', 'hour', T0 + 3 * HOUR).map((p) => p.value), [7, 0, 8]);
  assert.deepEqual(usageSeries(rows, 'tunnels', 'hour', T0 + 3 * HOUR).map((p) => p.value), [2, 0, 1]);
  assert.deepEqual(usageSeries(rows, 'streams', 'hour', T0 + 2 * HOUR + 1).map((p) => p.value), [3, 0], 'the hour under way is left out');
});

test('with little history the forecast says so and returns no points, without failing', () => {
  const result = forecastUsage([row(T0, 'web', { peak: 1 })], { metric: 'streams', scope: 'cluster', horizonMs: 24 * HOUR, now: T0 + 90 * 60_000, capacity: 10 });
  assert.equal(result.forecast, null);
  assert.equal(result.backtest, null);
  assert.equal(result.history.points, 1);
  assert.match(result.notes[0], /^history is short: 1 whole hour of usage so far; a forecast needs at least 4/);
});

test('three weeks of a daily cycle with a trend: daily and weekly seasons, a backtest error, and the capacity date', () => {
  const rows: UsageRow[] = [];
  const hours = 21 * 24;
  for (let h = 0; h < hours; h++) rows.push(row(T0 + h * HOUR, 'web', { peak: Math.round(20 + 10 * Math.sin((2 * Math.PI * h) / 24) + h * 0.05) }));
  const now = T0 + hours * HOUR;
  const result = forecastUsage(rows, { metric: 'streams', scope: 'node', node: 'n1', horizonMs: 7 * 24 * HOUR, now, capacity: 55 });
  assert.equal(result.history.points, hours);
  assert.deepEqual(result.forecast?.seasons, [24, 168]);
  assert.equal(result.forecast?.points.length, 168);
  assert.equal(result.forecast?.points[0].time, new Date(now).toISOString());
  assert.ok(result.backtest && result.backtest.folds > 0 && result.backtest.mape !== null && result.backtest.mape < 15, JSON.stringify(result.backtest));
  assert.ok(result.capacity?.point, 'the trend reaches 55 within the week');
  assert.ok(Date.parse(result.capacity.point) > now);
  // Two days of history: the weekly season is dropped and the notes say so.
  const short = forecastUsage(rows.slice(0, 60), { metric: 'streams', scope: 'cluster', horizonMs: 24 * HOUR, now: T0 + 60 * HOUR });
  assert.deepEqual(short.forecast?.seasons, [24]);
  assert.ok(short.notes.some((n) => /168|week/i.test(n)), short.notes.join(' | '));
});
