import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalQuantile } from './normal.js';

test('matches tabulated standard normal quantiles', () => {
  const table: Array<[number, number]> = [
    [0.5, 0],
    [0.9, 1.2815515655446004],
    [0.975, 1.959963984540054],
    [0.995, 2.5758293035489004],
    [0.01, -2.3263478740408408],
    [1e-6, -4.753424308822899],
  ];
  for (const [p, z] of table) assert.ok(Math.abs(normalQuantile(p) - z) < 1e-8, `p=${p}: ${normalQuantile(p)} vs ${z}`);
});

test('refuses p outside (0, 1)', () => {
  for (const p of [0, 1, -0.1, NaN]) assert.throws(() => normalQuantile(p), RangeError);
});
