import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../errors.js';
import { syntheticSeries } from '../test-support/synthetic-series.js';
import { fitHoltWinters } from './fit.js';
import { predict } from './predict.js';

const invalid = (pattern: RegExp) => ({ code: ErrorCode.INVALID_ARGUMENT, message: pattern });
const values = (noise: number, seed = 1) =>
  syntheticSeries({ level: 100, slope: 0.05, waves: [[24, 20]], noise, seed, points: 24 * 10 }).points.map((p) => p.value);

test('on trend + season + white noise the fit finds a stable pattern and a residual sigma near the noise', (t) => {
  const fit = fitHoltWinters(values(5), { seasons: [24], trend: true });
  t.diagnostic(`alpha ${fit.params.alpha.toFixed(4)}, beta ${fit.params.beta.toFixed(4)}, gamma ${fit.params.gammas[0].toFixed(4)}, sigma ${fit.sigma.toFixed(3)} (noise 5)`);
  assert.ok(fit.sigma > 4 && fit.sigma < 6.5, `sigma ${fit.sigma}`);
  for (const p of [fit.params.alpha, fit.params.beta, ...fit.params.gammas]) assert.ok(p > 0 && p < 1);
  assert.equal(fit.residuals.length, 240);
  assert.ok(Math.abs(fit.residuals.reduce((s, e) => s + e * e, 0) - fit.sse) < 1e-6 * fit.sse);
});

test('the fit is deterministic', () => {
  assert.deepEqual(fitHoltWinters(values(5, 4), { seasons: [24], trend: true }), fitHoltWinters(values(5, 4), { seasons: [24], trend: true }));
});

test('fitting and predicting refuse what they cannot use', () => {
  assert.throws(() => fitHoltWinters(values(0).slice(0, 47), { seasons: [24], trend: true }), invalid(/at least 48 values, got 47/));
  assert.throws(() => fitHoltWinters([1, 2, 3], { seasons: [], trend: true }), invalid(/at least 4 values/));
  assert.throws(() => fitHoltWinters([1, 2, NaN, 4, 5], { seasons: [], trend: true }), invalid(/finite/));
  assert.throws(() => fitHoltWinters(values(0), { seasons: [24, 36], trend: true }), invalid(/multiple/));
  const fit = fitHoltWinters(values(0), { seasons: [24], trend: true });
  assert.throws(() => predict(fit, 0, 0.8), invalid(/horizon/));
  assert.throws(() => predict(fit, 5, 0), invalid(/coverage/));
});
