import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PromMetrics } from '../../metrics/prom-metrics.js';
import { parseExposition, sample } from '../../test-support/exposition.js';
import { startRedis } from '../../test-support/redis-server.js';
import { connectRedis, createRedisClient } from './redis-client.js';
import { instrumentRedis } from './redis-metrics.js';

test('every command of the client is timed by name; error replies and commands refused while Redis is down are counted', { timeout: 30_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const target = { url: redis.server.url };
  const client = createRedisClient(target);
  t.after(() => client.disconnect());
  await connectRedis(client, target);
  const metrics = new PromMetrics({ processMetrics: false });
  instrumentRedis(client, metrics);

  await client.set('k', 'v');
  await client.get('k');
  await client.get('k');
  await assert.rejects(client.incr('k'), /not an integer/);
  let m = parseExposition(await metrics.render());
  assert.equal(sample(m, 'tether_redis_command_seconds_count', { command: 'set' }), 1);
  assert.equal(sample(m, 'tether_redis_command_seconds_count', { command: 'get' }), 2);
  assert.equal(sample(m, 'tether_redis_command_seconds_count', { command: 'incr' }), 1);
  assert.equal(sample(m, 'tether_redis_command_errors_total', { command: 'incr' }), 1);
  assert.equal(sample(m, 'tether_redis_command_errors_total', { command: 'get' }), undefined);
  assert.ok(sample(m, 'tether_redis_command_seconds_sum', { command: 'get' })! > 0);

  await redis.server.stop();
  await assert.rejects(client.get('k'));
  m = parseExposition(await metrics.render());
  assert.equal(sample(m, 'tether_redis_command_errors_total', { command: 'get' }), 1);
  // The client keeps reconnecting and hears ECONNREFUSED: counted as connection errors.
  for (;;) {
    m = parseExposition(await metrics.render());
    if (sample(m, 'tether_redis_connection_errors_total')! > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
