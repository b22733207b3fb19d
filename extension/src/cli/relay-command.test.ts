import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisTarget } from './relay-command.js';
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
