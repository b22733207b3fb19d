import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryMetrics } from './memory-metrics.js';

test('MemoryMetrics keeps values per label set, whatever the order of the labels', () => {
  const metrics = new MemoryMetrics();
  const c = metrics.counter({ name: 'tether_x_total', help: 'x', labelNames: ['a', 'b'] });
  c.inc({ a: '1', b: '2' });
  c.inc({ b: '2', a: '1' }, 4);
  c.inc();
  assert.equal(metrics.value('tether_x_total', { a: '1', b: '2' }), 5);
  assert.equal(metrics.value('tether_x_total'), 1);
  const g = metrics.gauge({ name: 'tether_g', help: 'g' });
  g.inc();
  g.inc(undefined, 2);
  g.dec();
  assert.equal(metrics.value('tether_g'), 2);
  g.set(10);
  assert.equal(metrics.value('tether_g'), 10);
  const h = metrics.histogram({ name: 'tether_h_seconds', help: 'h', buckets: [0.1, 1] });
  h.observe(0.5);
  h.observe(2);
  assert.deepEqual(metrics.observations('tether_h_seconds'), [0.5, 2]);
  assert.equal(metrics.value('tether_h_seconds'), 2);
  assert.equal(metrics.value('tether_missing'), 0);
});

test('MemoryMetrics returns one instrument per name and refuses a name reused as another kind', () => {
  const metrics = new MemoryMetrics();
  metrics.counter({ name: 'tether_y_total', help: 'y' }).inc();
  metrics.counter({ name: 'tether_y_total', help: 'y' }).inc();
  assert.equal(metrics.value('tether_y_total'), 2);
  assert.throws(() => metrics.gauge({ name: 'tether_y_total', help: 'y' }), /counter, not a gauge/);
});
