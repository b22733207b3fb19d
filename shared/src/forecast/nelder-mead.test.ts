import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nelderMead } from './nelder-mead.js';

test('finds the minimum of a shifted, skewed quadratic', () => {
  const f = (x: readonly number[]) => (x[0] - 3) ** 2 + 10 * (x[1] + 1) ** 2 + (x[0] - 3) * (x[1] + 1);
  const r = nelderMead(f, [0, 0], { tolerance: 1e-14, maxEvaluations: 2000 });
  assert.ok(Math.abs(r.x[0] - 3) < 1e-4 && Math.abs(r.x[1] + 1) < 1e-4, `got ${r.x.join(", ")}`);
  assert.ok(r.value < 1e-8);
});

test('finds the Rosenbrock valley floor', () => {
  const f = (x: readonly number[]) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
  const r = nelderMead(f, [-1.2, 1], { tolerance: 1e-14, maxEvaluations: 5000 });
  assert.ok(Math.abs(r.x[0] - 1) < 1e-3 && Math.abs(r.x[1] - 1) < 1e-3, `got ${r.x.join(", ")}`);
});

test('is deterministic, treats NaN as worst, and respects its evaluation budget', () => {
  const f = (x: readonly number[]) => (x[0] > 2 ? NaN : (x[0] - 1) ** 2 + x[1] ** 2 + x[2] ** 2);
  const a = nelderMead(f, [1.5, 1, 1], { maxEvaluations: 300 });
  const b = nelderMead(f, [1.5, 1, 1], { maxEvaluations: 300 });
  assert.deepEqual(a, b);
  assert.ok(a.evaluations <= 300 + 3 + 1, `${a.evaluations} evaluations`);
  assert.ok(Number.isFinite(a.value) && a.value < 0.01, `value ${a.value}`);
});

test('stops as soon as the value is good enough', () => {
  const r = nelderMead((x) => x[0] ** 2, [0], { good: 1e-3 });
  assert.equal(r.evaluations, 2);
});
