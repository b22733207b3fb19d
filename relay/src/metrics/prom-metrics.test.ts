import assert from 'node:assert/strict';
import { test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { parseExposition, sample } from '../test-support/exposition.js';
import { PromMetrics, SERIES_DROPPED_METRIC } from './prom-metrics.js';

test('counters, gauges and histograms come out in the text exposition, per label set', async () => {
  const metrics = new PromMetrics({ processMetrics: false });
  const c = metrics.counter({ name: 'tether_x_total', help: 'x', labelNames: ['a', 'b'] });
  c.inc({ a: '1', b: '2' });
  c.inc({ b: '2', a: '1' }, 4);
  c.inc({ a: '3', b: 'q"uote\\' });
  const g = metrics.gauge({ name: 'tether_g', help: 'g' });
  g.inc();
  g.inc(undefined, 2);
  g.dec();
  const g2 = metrics.gauge({ name: 'tether_set', help: 'set', labelNames: ['role'] });
  g2.set(7, { role: 'host' });
  const h = metrics.histogram({ name: 'tether_h_seconds', help: 'h', buckets: [0.1, 1] });
  h.observe(0.05);
  h.observe(0.5);
  h.observe(2);

  const text = await metrics.render();
  const parsed = parseExposition(text);
  assert.equal(sample(parsed, 'tether_x_total', { a: '1', b: '2' }), 5);
  assert.equal(sample(parsed, 'tether_x_total', { a: '3', b: 'q"uote\\' }), 1, 'label values are escaped and parse back');
  assert.equal(sample(parsed, 'tether_g'), 2);
  assert.equal(sample(parsed, 'tether_set', { role: 'host' }), 7);
  assert.equal(sample(parsed, 'tether_h_seconds_bucket', { le: '0.1' }), 1);
  assert.equal(sample(parsed, 'tether_h_seconds_bucket', { le: '1' }), 2);
  assert.equal(sample(parsed, 'tether_h_seconds_bucket', { le: '+Inf' }), 3);
  assert.equal(sample(parsed, 'tether_h_seconds_count'), 3);
  assert.equal(sample(parsed, 'tether_h_seconds_sum'), 2.55);
  assert.equal(parsed.types.get('tether_x_total'), 'counter');
  assert.equal(parsed.types.get('tether_g'), 'gauge');
  assert.equal(parsed.types.get('tether_h_seconds'), 'histogram');
  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
});

test('each instance has its own registry: two relays in one process do not collide, and the global one stays empty', async () => {
  const one = new PromMetrics({ processMetrics: false });
  const two = new PromMetrics({ processMetrics: false });
  one.counter({ name: 'tether_streams_opened_total', help: 'o' }).inc(undefined, 3);
  two.counter({ name: 'tether_streams_opened_total', help: 'o' }).inc();
  assert.equal(sample(parseExposition(await one.render()), 'tether_streams_opened_total'), 3);
  assert.equal(sample(parseExposition(await two.render()), 'tether_streams_opened_total'), 1);
  assert.equal(globalRegistry.getSingleMetric('tether_streams_opened_total'), undefined);
});

test('one instrument per name; the same name as another kind is refused', async () => {
  const metrics = new PromMetrics({ processMetrics: false });
  metrics.counter({ name: 'tether_y_total', help: 'y' }).inc();
  metrics.counter({ name: 'tether_y_total', help: 'y' }).inc();
  assert.equal(sample(parseExposition(await metrics.render()), 'tether_y_total'), 2);
  assert.throws(() => metrics.gauge({ name: 'tether_y_total', help: 'y' }), /counter, not a gauge/);
});

test('past the cap, new label sets are folded into _other and counted; known ones keep counting', async () => {
  const metrics = new PromMetrics({ processMetrics: false, maxSeriesPerMetric: 3 });
  const c = metrics.counter({ name: 'tether_by_tunnel_total', help: 't', labelNames: ['tunnel', 'kind'] });
  for (const tunnel of ['a', 'b', 'c', 'd', 'e']) c.inc({ tunnel, kind: 'x' });
  c.inc({ tunnel: 'a', kind: 'x' }, 10);
  c.inc({ tunnel: 'f', kind: 'x' });
  const h = metrics.histogram({ name: 'tether_lat_seconds', help: 'l', labelNames: ['tunnel'], buckets: [1] });
  for (const tunnel of ['a', 'b', 'c', 'd']) h.observe(0.5, { tunnel });

  const parsed = parseExposition(await metrics.render());
  assert.equal(sample(parsed, 'tether_by_tunnel_total', { tunnel: 'a', kind: 'x' }), 11);
  assert.equal(sample(parsed, 'tether_by_tunnel_total', { tunnel: 'c', kind: 'x' }), 1);
  assert.equal(sample(parsed, 'tether_by_tunnel_total', { tunnel: 'd', kind: 'x' }), undefined);
  assert.equal(sample(parsed, 'tether_by_tunnel_total', { tunnel: '_other', kind: '_other' }), 3);
  assert.equal(parsed.samples.filter((s) => s.name === 'tether_by_tunnel_total').length, 4, 'three label sets and _other');
  assert.equal(sample(parsed, SERIES_DROPPED_METRIC, { metric: 'tether_by_tunnel_total' }), 3);
  assert.equal(sample(parsed, SERIES_DROPPED_METRIC, { metric: 'tether_lat_seconds' }), 1);
  assert.equal(sample(parsed, 'tether_lat_seconds_count', { tunnel: '_other' }), 1);
});

test('labels not declared are left out and missing ones are empty, so a caller cannot make a new series shape', async () => {
  const metrics = new PromMetrics({ processMetrics: false });
  const c = metrics.counter({ name: 'tether_z_total', help: 'z', labelNames: ['code'] });
  c.inc({ code: '9', extra: 'nope' });
  c.inc();
  const parsed = parseExposition(await metrics.render());
  assert.equal(sample(parsed, 'tether_z_total', { code: '9' }), 1);
  assert.equal(sample(parsed, 'tether_z_total', { code: '' }), 1);
});

test('Node process metrics are on every instance that asks for them, collected once per process', async () => {
  const one = parseExposition(await new PromMetrics().render());
  const two = parseExposition(await new PromMetrics().render());
  for (const parsed of [one, two]) {
    assert.ok(sample(parsed, 'process_cpu_user_seconds_total')! >= 0);
    assert.ok(sample(parsed, 'nodejs_heap_size_used_bytes')! > 0);
    assert.ok(parsed.types.has('nodejs_eventloop_lag_seconds'));
  }
  assert.equal(sample(parseExposition(await new PromMetrics({ processMetrics: false }).render()), 'process_cpu_user_seconds_total'), undefined);
  assert.throws(() => new PromMetrics({ maxSeriesPerMetric: 0 }), RangeError);
});
