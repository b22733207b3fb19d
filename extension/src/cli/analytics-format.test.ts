import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ForecastAnswer } from '../core/analytics-api.js';
import { analyticsTable, failedText, forecastText, protocolsText } from './analytics-format.js';

test('analyticsTable: one tab-separated row per bucket and key, sessions averaged, failed opens by code, ended streams by protocol', () => {
  const table = analyticsTable([{ time: '2026-12-01T10:00:00.000Z', key: 'web\tx', bytesUp: 10, bytesDown: 2000, opened: 3, closed: 2, durationMs: 5000, peak: 2, failed: { '7': 1, '3': 2 }, protocols: { tls: 1, ssh: 3 } }], 'tunnel');
  assert.deepEqual(table.header, ['TIME', 'TUNNEL', 'BYTES_UP', 'BYTES_DOWN', 'STREAMS', 'SESSIONS', 'AVG_SESSION_S', 'PEAK', 'FAILED', 'PROTOCOLS']);
  assert.deepEqual(table.rows, [['2026-12-01T10:00:00.000Z', 'web x', '10', '2000', '3', '2', '2.5', '2', '3:2,7:1', 'ssh:3,tls:1']]);
  assert.equal(failedText({}), '-');
  assert.equal(protocolsText(undefined), '-', 'a relay that does not count protocols');
});

const base: ForecastAnswer = { metric: 'streams', scope: 'node', node: 'n1', step: 'hour', horizonHours: 48, history: { points: 0, from: null, to: null }, forecast: null, backtest: null, capacity: { capacity: 100, point: null, upper: null }, notes: ['history is short: 0 whole hours of usage so far; a forecast needs at least 4'] };

test('forecastText with short history: no rows, and it says the history is short and the backtest error is unknown', () => {
  const { table, summary } = forecastText(base);
  assert.equal(table.rows.length, 0);
  assert.deepEqual(summary, [
    'Forecast of concurrent streams (peak per hour) for node n1, 48 h ahead, from 0 hours of history',
    'Backtest error: unknown (not enough history yet)',
    'Capacity 100: no forecast yet, so no date',
    'Note: history is short: 0 whole hours of usage so far; a forecast needs at least 4',
  ]);
});

test('forecastText with a forecast: the table, the backtest error and "at this trend ... reaches its configured capacity on DATE"', () => {
  const { table, summary } = forecastText({
    ...base,
    scope: 'cluster',
    history: { points: 504, from: '2026-11-01T00:00:00.000Z', to: '2026-11-21T23:00:00.000Z' },
    forecast: { coverage: 0.8, seasons: [24, 168], droppedSeasons: [], trend: true, points: [{ time: '2026-11-22T00:00:00.000Z', value: 41.5, lower: 38, upper: 45.25 }] },
    backtest: { mape: 4.321, mase: 0.52, coverage: 0.79, nominalCoverage: 0.8, points: 144, folds: 3 },
    capacity: { capacity: 55, point: '2026-11-23T14:00:00.000Z', upper: '2026-11-22T20:00:00.000Z' },
    notes: [],
  });
  assert.deepEqual(table.rows, [['2026-11-22T00:00:00.000Z', '41.50', '38', '45.25']]);
  assert.deepEqual(summary, [
    'Forecast of concurrent streams (peak per hour) for the cluster, 48 h ahead, from 504 hours of history',
    'Model: Holt-Winters, seasons 24 h, 168 h, trend; intervals 80%',
    'Backtest error: MAPE 4.3%, MASE 0.52, interval coverage 79% (nominal 80%), 144 points over 3 folds',
    'At this trend, the cluster reaches its configured capacity (55) on 2026-11-23T14:00:00.000Z; possibly as early as 2026-11-22T20:00:00.000Z',
  ]);
});
