import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { buildApp, type RelayApp } from './app.js';
import { startRedis } from './test-support/redis-server.js';
import { ADMIN_TOKEN, bearer, createUser } from './test-support/testing.js';

const SECRET = 'cluster-secret-for-tests-01';
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

async function node(t: TestContext): Promise<RelayApp> {
  const relay = await buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: redis!.server.url }, clusterSecret: SECRET });
  t.after(() => relay.app.close());
  return relay;
}

const whoami = async (relay: RelayApp, token: string): Promise<number> =>
  (await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) })).statusCode;

test('two relay apps on one Redis share users: created on one, signed in on the other, re-keyed and deleted everywhere', async (t) => {
  const [one, two] = [await node(t), await node(t)];
  const token = await createUser(one, 'carol');
  assert.equal(await whoami(two, token), 200);
  const list = await two.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(ADMIN_TOKEN) });
  assert.ok(list.json<{ users: { name: string }[] }>().users.some((u) => u.name === 'carol'));
  const again = await two.app.inject({ method: 'POST', url: '/v1/users', headers: bearer(ADMIN_TOKEN), payload: { name: 'carol' } });
  assert.equal(again.json<{ code: string }>().code, ErrorCode.USER_EXISTS);
  const rekey = await two.app.inject({ method: 'POST', url: '/v1/users/carol/token', headers: bearer(ADMIN_TOKEN) });
  assert.equal(rekey.statusCode, 200, rekey.body);
  assert.equal(await whoami(one, token), 401);
  assert.equal(await whoami(one, rekey.json<{ token: string }>().token), 200);
  assert.equal((await one.app.inject({ method: 'DELETE', url: '/v1/users/carol', headers: bearer(ADMIN_TOKEN) })).statusCode, 204);
  assert.equal(await whoami(two, rekey.json<{ token: string }>().token), 401);
});

test('a relay on Redis without a cluster secret is refused before it connects', async () => {
  await assert.rejects(buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: 'redis://127.0.0.1:1' } }), {
    code: ErrorCode.INVALID_CONFIG,
    message: /needs --cluster-secret \(or TETHER_CLUSTER_SECRET\)/,
  });
  await assert.rejects(buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: 'redis://127.0.0.1:1' }, clusterSecret: 'short' }), {
    code: ErrorCode.INVALID_CONFIG,
    message: /at least 16 characters/,
  });
});

test('a relay whose Redis is unreachable at start fails with STORE_UNAVAILABLE', async () => {
  await assert.rejects(buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: 'redis://127.0.0.1:1' }, clusterSecret: SECRET }), {
    code: ErrorCode.STORE_UNAVAILABLE,
    message: /cannot reach Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/,
  });
});

test('Redis down: /readyz, a request and a WebSocket upgrade that need the store answer 503 STORE_UNAVAILABLE, fast; all recover', async (t) => {
  const relay = await node(t);
  const token = await createUser(relay, 'dave');
  await redis!.server.stop();
  t.after(() => redis!.server.start().catch(() => undefined));
  const started = Date.now();
  const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 503);
  assert.equal(ready.json<{ database: string }>().database, 'unavailable');
  const res = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) });
  assert.equal(res.statusCode, 503, res.body);
  assert.equal(res.json<{ code: string }>().code, ErrorCode.STORE_UNAVAILABLE);
  const upgrade = await relay.app.inject({
    method: 'GET',
    url: '/v1/connect',
    headers: { ...bearer(token), connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'tether.v1' },
  });
  assert.equal(upgrade.statusCode, 503, upgrade.body);
  assert.equal(upgrade.json<{ code: string }>().code, ErrorCode.STORE_UNAVAILABLE);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  await redis!.server.start();
  const deadline = Date.now() + 5000;
  while ((await relay.app.inject({ method: 'GET', url: '/readyz' })).statusCode !== 200) {
    assert.ok(Date.now() < deadline, '/readyz did not recover within 5 s of Redis restarting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

test('GET /v1/tunnels/:name on a cluster node names the live nodes serving the tunnel (advertise URLs, oldest lease first)', async (t) => {
  const [one, two] = [await node(t), await node(t)];
  const urls: string[] = [];
  for (const relay of [one, two]) urls.push(await relay.app.listen({ port: 0, host: '127.0.0.1' }));
  const token = await createUser(one, 'erin');
  const erin = (await one.store.findUserByName('erin'))!;
  await one.store.claimTunnel('web', erin.id);
  const status = async () => (await two.app.inject({ method: 'GET', url: '/v1/tunnels/web', headers: bearer(token) })).json<{ online: boolean; servedBy: string[] }>();
  assert.deepEqual(await status(), { ...(await status()), online: false, servedBy: [] });
  await one.ports.registry.claim({ tunnel: 'web', nodeId: one.nodeId, linkId: 1, hostId: erin.id });
  // Claims in one millisecond are ordered by node id (random here): one later, so one is older.
  await new Promise((r) => setTimeout(r, 5));
  await two.ports.registry.claim({ tunnel: 'web', nodeId: two.nodeId, linkId: 7, hostId: erin.id });
  assert.deepEqual((await status()).servedBy, urls);
  // A lease of a node that is not live (no heartbeat) gives no URL.
  await one.ports.registry.release('web', one.nodeId, 1);
  await one.ports.registry.claim({ tunnel: 'web', nodeId: 'gone-node', linkId: 3, hostId: erin.id });
  const now = await status();
  assert.equal(now.online, true);
  assert.deepEqual(now.servedBy, [urls[1]]);
});
