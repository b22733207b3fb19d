import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricsSettings, redisTarget } from './relay-command.js';
import { UsageError } from './output.js';

test('redisTarget: flags, else variables; a cluster list split on commas; both is a usage error', () => {
  const cases: [Parameters<typeof redisTarget>[0], NodeJS.ProcessEnv, ReturnType<typeof redisTarget>][] = [
    [{}, {}, undefined],
    [{ redis: 'redis://a:1' }, {}, { url: 'redis://a:1' }],
    [{ 'redis-cluster': 'redis://a:1, redis://b:2,' }, {}, { clusterUrls: ['redis://a:1', 'redis://b:2'] }],
    [{}, { TETHER_REDIS_URL: 'redis://env:1' }, { url: 'redis://env:1' }],
    [{}, { TETHER_REDIS_CLUSTER: 'redis://c:1,redis://d:2' }, { clusterUrls: ['redis://c:1', 'redis://d:2'] }],
    // A flag wins over both variables: the variables of a container do not fight the command line.
    [{ redis: 'redis://flag:1' }, { TETHER_REDIS_CLUSTER: 'redis://c:1' }, { url: 'redis://flag:1' }],
    [{}, { TETHER_REDIS_URL: '' }, undefined],
  ];
  for (const [values, env, expected] of cases) assert.deepEqual(redisTarget(values, env), expected, JSON.stringify({ values, env }));
  assert.throws(() => redisTarget({ redis: 'redis://a:1', 'redis-cluster': 'redis://b:2' }, {}), (err) => err instanceof UsageError && /not both/.test(err.message));
  assert.throws(() => redisTarget({}, { TETHER_REDIS_URL: 'redis://a:1', TETHER_REDIS_CLUSTER: 'redis://b:2' }), UsageError);
});

test('metricsSettings: flags, else variables; bad ports and caps are usage errors; a host without a port too', () => {
  assert.deepEqual(metricsSettings({}, {}), { metricsPort: undefined, metricsHost: undefined, metricsTunnelLabels: undefined });
  assert.deepEqual(metricsSettings({ 'metrics-port': '9464' }, { TETHER_METRICS_PORT: '1' }), { metricsPort: 9464, metricsHost: undefined, metricsTunnelLabels: undefined });
  assert.deepEqual(
    metricsSettings({}, { TETHER_METRICS_PORT: '0', TETHER_METRICS_HOST: '10.0.0.5', TETHER_METRICS_TUNNEL_LABELS: '50' }),
    { metricsPort: 0, metricsHost: '10.0.0.5', metricsTunnelLabels: 50 },
  );
  for (const [values, pattern] of [
    [{ 'metrics-port': '65536' }, /--metrics-port must be 0-65535, got "65536"/],
    [{ 'metrics-port': '-1' }, /--metrics-port/],
    [{ 'metrics-port': 'http' }, /--metrics-port/],
    [{ 'metrics-port': '1', 'metrics-tunnel-labels': '10001' }, /--metrics-tunnel-labels takes/],
    [{ 'metrics-tunnel-labels': 'all' }, /--metrics-tunnel-labels takes/],
    [{ 'metrics-host': '0.0.0.0' }, /--metrics-host needs --metrics-port/],
  ] as const) {
    assert.throws(() => metricsSettings(values, {}), (err) => err instanceof UsageError && pattern.test(err.message), JSON.stringify(values));
  }
});
