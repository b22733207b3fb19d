import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import type { Clock } from '../ports/clock.js';
import { startRedis, startRedisCluster, type RedisFixture, type RedisProcess } from '../test-support/redis-server.js';
import { connectRedis, createRedisClient, type RedisClient, type RedisTarget } from '../stores/redis/redis-client.js';
import { resolveLimits } from '../config.js';
import { resolvePorts } from '../single-node.js';
import { RedisStore } from '../stores/redis/redis-store.js';
import { MemoryTunnelRegistry } from './memory-registry.js';
import { ManualClock, registryContract } from './registry-contract.js';
import { leaseKey, RedisTunnelRegistry } from './redis-registry.js';

// Real redis-server processes: a standalone one, and a Redis Cluster of six (three masters, three
// replicas) where each tunnel's key lands in its own slot. One client per server, as a relay node
// shares the store's client; a random prefix per registry keeps the tests' keys apart.
let redis: (RedisFixture & { server: RedisProcess }) | undefined;
let cluster: RedisFixture | undefined;
const clients: RedisClient[] = [];

async function connect(target: RedisTarget): Promise<RedisClient> {
  const client = createRedisClient(target);
  await connectRedis(client, target);
  clients.push(client);
  return client;
}

let standalone: RedisClient;
let clustered: RedisClient;
before(async () => {
  redis = await startRedis();
  cluster = await startRedisCluster();
  standalone = await connect({ url: redis.server.url });
  clustered = await connect({ clusterUrls: cluster.servers.slice(0, 2).map((s) => s.url) });
});
after(async () => {
  for (const client of clients) client.disconnect();
  await redis?.stop();
  await cluster?.stop();
});

const open = (client: () => RedisClient) => async (clock: Clock, leaseMs: number) =>
  new RedisTunnelRegistry(client(), clock, leaseMs, { prefix: `test-${randomUUID()}` });

registryContract('Redis (standalone)', open(() => standalone));
registryContract('Redis Cluster (3 masters, 3 replicas)', open(() => clustered));

const claim = (tunnel: string, nodeId: string, linkId = 1, hostId = 7) => ({ tunnel, nodeId, linkId, hostId });

test('Redis: two nodes on one Redis see each other\'s leases, and a third identity is kept out by either', async () => {
  const prefix = `test-${randomUUID()}`;
  const clock = new ManualClock();
  const nodeA = new RedisTunnelRegistry(standalone, clock, 1000, { prefix });
  const nodeB = new RedisTunnelRegistry(await connect({ url: redis!.server.url }), clock, 1000, { prefix });
  assert.equal((await nodeA.claim(claim('web', 'a'))).granted, true);
  clock.t += 10;
  assert.equal((await nodeB.claim(claim('web', 'b', 3))).granted, true, 'the same host through another node');
  assert.deepEqual((await nodeA.lookup('web')).map((l) => `${l.nodeId}/${l.linkId}`), ['a/1', 'b/3']);
  assert.deepEqual((await nodeB.lookup('web')).map((l) => `${l.nodeId}/${l.linkId}`), ['a/1', 'b/3']);
  const refused = await nodeB.claim(claim('web', 'b', 4, 8));
  assert.deepEqual([refused.granted, refused.lease.nodeId, refused.lease.hostId], [false, 'a', 7], 'the oldest holder in the way');
  await nodeA.release('web', 'a', 1);
  assert.deepEqual((await nodeB.lookup('web')).map((l) => l.nodeId), ['b']);
  await nodeA.close();
  assert.deepEqual((await nodeB.lookup('web')).map((l) => l.nodeId), ['b'], "closing one node's registry leaves the shared client working");
});

test('Redis: a tunnel key is one hash with a real-time TTL, and vanishes once its last lease is released', async () => {
  const prefix = `test-${randomUUID()}`;
  const registry = new RedisTunnelRegistry(standalone, new ManualClock(), 1000, { prefix });
  await registry.claim(claim('web', 'n1'));
  const key = leaseKey(prefix, 'web');
  assert.equal(key, `${prefix}:{lease:web}:holders`);
  assert.equal(await standalone.type(key), 'hash');
  const ttl = await standalone.pttl(key);
  assert.ok(ttl > 50_000 && ttl <= 60_000, `PTTL ${ttl}`);
  const stored = JSON.parse((await standalone.hget(key, 'n1'))!) as Record<string, number>;
  assert.deepEqual(stored, { linkId: 1, hostId: 7, expiresAt: 1_001_000, claimedAt: 1_000_000 });
  await registry.release('web', 'n1', 1);
  assert.equal(await standalone.exists(key), 0);
});

test('Redis: a renewal keeps the claim time, so a renewed holder stays ahead of later ones', async () => {
  const clock = new ManualClock();
  const registry = new RedisTunnelRegistry(standalone, clock, 1000, { prefix: `test-${randomUUID()}` });
  await registry.claim(claim('web', 'z'));
  clock.t += 100;
  await registry.claim(claim('web', 'a', 2));
  clock.t += 100;
  assert.deepEqual(await registry.renew('z', [claim('web', 'z')]), []);
  assert.equal((await registry.claim(claim('web', 'z'))).granted, true);
  assert.deepEqual((await registry.lookup('web')).map((l) => l.nodeId), ['z', 'a']);
});

test('Redis Cluster: renewals and lookups span tunnels in different slots', async () => {
  const registry = new RedisTunnelRegistry(clustered, new ManualClock(), 1000, { prefix: `test-${randomUUID()}` });
  const names = Array.from({ length: 20 }, (_, i) => `t${i}`);
  assert.deepEqual(await registry.renew('n1', names.map((n) => claim(n, 'n1'))), []);
  const found = await registry.lookupMany([...names, 'none']);
  assert.deepEqual([...found.keys()], names);
});

test('Redis: a stopped Redis fails calls with STORE_UNAVAILABLE within 2 s, and the registry works again once it is back', async (t) => {
  const clock = new ManualClock();
  const registry = new RedisTunnelRegistry(standalone, clock, 1000, { prefix: `test-${randomUUID()}` });
  t.after(() => redis!.server.start());
  await registry.claim(claim('web', 'n1'));
  await redis!.server.stop();
  const calls = [
    () => registry.claim(claim('api', 'n1')),
    () => registry.renew('n1', [claim('web', 'n1')]),
    () => registry.release('web', 'n1', 1),
    () => registry.lookup('web'),
    () => registry.lookupMany(['web', 'api']),
  ];
  for (const call of calls) {
    const started = Date.now();
    await assert.rejects(call(), (err: { code: string; message: string }) => {
      assert.equal(err.code, ErrorCode.STORE_UNAVAILABLE);
      assert.match(err.message, /Redis store is unavailable/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
  }
  await redis!.server.start();
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await registry.lookup('web');
      break;
    } catch (err) {
      assert.equal((err as { code: string }).code, ErrorCode.STORE_UNAVAILABLE);
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  // The server kept nothing (no persistence in tests): the lease is taken again by renewing it.
  assert.deepEqual(await registry.renew('n1', [claim('web', 'n1')]), []);
  assert.deepEqual((await registry.lookup('web')).map((l) => l.nodeId), ['n1']);
});

test('Redis: a Redis that stops answering (SIGSTOP) fails calls with STORE_UNAVAILABLE within 2 s, and they work once it answers again', async (t) => {
  const registry = new RedisTunnelRegistry(standalone, new ManualClock(), 1000, { prefix: `test-${randomUUID()}` });
  redis!.server.pause();
  t.after(() => redis!.server.resume());
  const started = Date.now();
  await assert.rejects(registry.claim(claim('web', 'n1')), { code: ErrorCode.STORE_UNAVAILABLE, message: /timed out/ });
  assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
  redis!.server.resume();
  assert.equal((await registry.claim(claim('web', 'n1'))).granted, true);
});

test('Redis: a closed registry refuses calls without touching Redis', async () => {
  const registry = new RedisTunnelRegistry(standalone, new ManualClock(), 1000, { prefix: `test-${randomUUID()}` });
  await registry.close();
  await assert.rejects(registry.lookup('web'), { code: ErrorCode.STORE_UNAVAILABLE, message: /closed/ });
  assert.equal(standalone.status, 'ready');
});

test('resolvePorts: a cluster node keeps its leases in the store\'s Redis, under its prefix; closing the registry leaves the client to the store', async () => {
  const prefix = `test-${randomUUID()}`;
  const store = new RedisStore(await connect({ url: redis!.server.url }), { prefix });
  const { ports, closeOwned } = resolvePorts({ adminToken: 'unused-admin-token-000' }, resolveLimits(), store);
  assert.ok(ports.registry instanceof RedisTunnelRegistry);
  await ports.registry.claim(claim('web', 'n1'));
  assert.equal(await store.client.exists(leaseKey(prefix, 'web')), 1);
  await ports.registry.close();
  assert.equal(await store.client.exists(leaseKey(prefix, 'web')), 1, "the registry's close leaves the store's client working");
  await closeOwned();
  const single = resolvePorts({ adminToken: 'unused-admin-token-000' }, resolveLimits());
  assert.ok(single.ports.registry instanceof MemoryTunnelRegistry, 'a single relay keeps leases in memory');
  await single.closeOwned();
});
