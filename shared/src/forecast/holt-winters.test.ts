import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gaussian } from '../test-support/synthetic-series.js';
import { Prng } from '../test-support/testing.js';
import type { FittedHoltWinters } from './fit.js';
import { copyState, filter, initialState, pointForecasts, type HoltWintersSpec } from './holt-winters.js';
import { predict } from './predict.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const wave = (t: number) => 100 + 0.5 * t + 20 * Math.sin((2 * Math.PI * t) / 24) + 10 * Math.sin((2 * Math.PI * t) / 168);
const values = Array.from({ length: 336 }, (_, t) => wave(t));
const spec: HoltWintersSpec = { seasons: [24, 168], trend: true };

test('the initial state recovers level, trend and each season of a noise-free series', () => {
  const s = initialState(values, spec);
  close(s.trend, 0.5);
  close(s.level + s.trend, 100);
  for (let j = 0; j < 24; j++) close(s.seasonals[0][j], 20 * Math.sin((2 * Math.PI * j) / 24));
  for (let j = 0; j < 168; j++) close(s.seasonals[1][j], 10 * Math.sin((2 * Math.PI * j) / 168));
});

test('a noise-free series is filtered without error and forecast exactly, whatever the parameters', () => {
  for (const params of [{ alpha: 0.1, beta: 0.01, gammas: [0.1, 0.1] }, { alpha: 0.9, beta: 0.5, gammas: [0.7, 0.3] }]) {
    const state = initialState(values, spec);
    const errors: number[] = [];
    filter(values, spec, params, state, errors);
    for (const e of errors) close(e, 0, 1e-9);
    const ahead = pointForecasts(state, spec, 200);
    ahead.forEach((v, i) => close(v, wave(336 + i), 1e-8));
  }
});

test('without a trend the slope stays 0, and without a season the model is Holt linear', () => {
  const line = Array.from({ length: 20 }, (_, t) => 5 + 2 * t);
  const flat = initialState(line, { seasons: [], trend: false });
  assert.equal(flat.trend, 0);
  const holt = initialState(line, { seasons: [], trend: true });
  close(holt.trend, 2);
  close(holt.level + holt.trend, 5);
  filter(line, { seasons: [], trend: true }, { alpha: 0.5, beta: 0.5, gammas: [] }, holt);
  close(pointForecasts(holt, { seasons: [], trend: true }, 3)[2], 5 + 2 * 22);
});

test('the analytic h-step variance matches a simulation of the model', () => {
  const sim: HoltWintersSpec = { seasons: [3, 6], trend: true };
  const params = { alpha: 0.3, beta: 0.2, gammas: [0.4, 0.25] };
  const start = { level: 10, trend: 0.1, seasonals: [Float64Array.from([1, -2, 1]), Float64Array.from([0.5, 0, -0.5, 0.5, 0, -0.5])], t: 7 };
  const horizon = 13;
  const model: FittedHoltWinters = { spec: sim, params, state: start, n: 100, sse: 0, sigma: 1, residuals: [] };
  const analytic = predict(model, horizon, 0.8);
  const expected = pointForecasts(start, sim, horizon);
  const normal = gaussian(new Prng(42));
  const runs = 6000;
  const sumSq = new Array<number>(horizon).fill(0);
  for (let r = 0; r < runs; r++) {
    const state = copyState(start);
    for (let h = 0; h < horizon; h++) {
      const y = pointForecasts(state, sim, 1)[0] + normal();
      filter([y], sim, params, state);
      sumSq[h] += (y - expected[h]) ** 2;
    }
  }
  for (let h = 0; h < horizon; h++) {
    const simulated = sumSq[h] / runs;
    const ratio = simulated / analytic.sd[h] ** 2;
    assert.ok(ratio > 0.9 && ratio < 1.1, `h=${h + 1}: simulated ${simulated}, analytic ${analytic.sd[h] ** 2}`);
  }
  close(analytic.sd[0], 1);
  close(analytic.upper[0] - analytic.values[0], 1.2815515655446004, 1e-8);
});
