import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccuracyTally, seasonalNaiveMae } from './metrics.js';

test('seasonal naive MAE compares each value with the one a season earlier', () => {
  assert.equal(seasonalNaiveMae([1, 2, 3, 2, 4, 3], 3), (1 + 2 + 0) / 3);
  assert.equal(seasonalNaiveMae([1, 5, 2], 1), (4 + 3) / 2);
  assert.ok(Number.isNaN(seasonalNaiveMae([1, 2], 2)));
});

test('the tally leaves zero actuals out of MAPE only, and unusable scales out of MASE only', () => {
  const tally = new AccuracyTally();
  tally.add(10, 12, 11, 13, 2); // APE 0.2, ASE 1, outside
  tally.add(0, 1, -1, 2, 2); // no APE, ASE 0.5, inside
  tally.add(20, 15, 10, 25, 0); // APE 0.25, no ASE, inside
  assert.equal(tally.points, 3);
  assert.ok(Math.abs((tally.mape ?? 0) - 22.5) < 1e-12);
  assert.equal(tally.mase, 0.75);
  assert.equal(tally.coverage, 2 / 3);
  const empty = new AccuracyTally();
  assert.deepEqual([empty.mape, empty.mase, empty.coverage], [null, null, null]);
});
