import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { encodeOpen, encodeOpenOk, ErrorCode, FrameType, WireCode } from '@tether/shared';
import { buildApp, type RelayApp } from '../app.js';
import type { RelayOptions } from '../config.js';
import { startRelay } from '../server.js';
import { startRedis } from '../test-support/redis-server.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, openLink, waitFor, type TestRelay } from '../test-support/testing.js';
import { invalidationChannel, invalidationLog, parseInvalidation, RedisInvalidations, streamIdAfter, type Invalidation } from './invalidation.js';
import { NodeRegistry, type LiveNode } from './node-registry.js';

const SECRET = 'cluster-secret-for-tests-01';
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

/** A relay node on the test Redis, listening on 127.0.0.1, closed after the test. */
async function node(t: TestContext, extra: Partial<RelayOptions> = {}): Promise<TestRelay> {
  const relay = await buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: redis!.server.url }, clusterSecret: SECRET, version: '9.9.9', heartbeat: { intervalMs: 100, ttlMs: 1000 }, ...extra });
  const clients = new Set<WebSocket>();
  const testRelay: TestRelay = {
    ...relay,
    wsUrl: '',
    clients,
    async listen() {
      testRelay.wsUrl = (await relay.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
      return testRelay.wsUrl;
    },
  };
  t.after(async () => {
    for (const ws of clients) ws.terminate();
    await relay.app.close();
  });
  await testRelay.listen();
  return testRelay;
}

async function listNodes(relay: RelayApp, token = ADMIN_TOKEN): Promise<LiveNode[]> {
  const res = await relay.app.inject({ method: 'GET', url: '/v1/cluster/nodes', headers: bearer(token) });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ nodes: LiveNode[] }>().nodes;
}

const since = (started: number): number => Date.now() - started;

test('two nodes on one Redis list each other with id, advertise URL, version and load; a closed node leaves at once', async (t) => {
  const one = await node(t, { nodeId: 'node-one' });
  const two = await node(t, { nodeId: 'node-two', advertise: 'http://relay-two.example:8443' });
  for (const relay of [one, two]) {
    const nodes = await listNodes(relay);
    assert.deepEqual(nodes.map((n) => n.id), ['node-one', 'node-two']);
    assert.equal(nodes[0].advertise, one.wsUrl.replace(/^ws/, 'http'));
    assert.equal(nodes[1].advertise, 'http://relay-two.example:8443');
    for (const n of nodes) {
      assert.equal(n.version, '9.9.9');
      assert.ok(n.ageMs >= 0 && n.ageMs < 1000, `heartbeat age ${n.ageMs} ms`);
      assert.ok(!Number.isNaN(Date.parse(n.startedAt)));
    }
  }
  // Load: a host link on node two shows in its next heartbeat.
  const token = await createUser(one, 'lois');
  await openLink(two, '/v1/host?tunnel=lois-web', token);
  let seen: LiveNode | undefined;
  while (seen?.links !== 1) {
    await new Promise((r) => setTimeout(r, 50));
    seen = (await listNodes(one)).find((x) => x.id === 'node-two');
  }
  assert.equal(seen.streams, 0);

  await two.app.close();
  assert.deepEqual((await listNodes(one)).map((n) => n.id), ['node-one']);
});

test('a node that dies without leaving disappears once its heartbeat expires', async (t) => {
  const client = new Redis(redis!.server.url, { lazyConnect: false });
  t.after(() => client.quit());
  const log = { warn: () => undefined, info: () => undefined } as never;
  const info = { id: 'crashed', advertise: 'http://10.1.1.1:8080', version: '1', startedAt: new Date().toISOString(), links: 2, streams: 3 };
  const dying = new NodeRegistry(client, () => info, log, { heartbeatMs: 100, ttlMs: 500 });
  const watcher = new NodeRegistry(client, () => ({ ...info, id: 'watcher' }), log, { heartbeatMs: 100, ttlMs: 500 });
  await dying.start();
  const listed = (await watcher.list()).find((n) => n.id === 'crashed');
  assert.deepEqual({ ...listed, ageMs: 0 }, { ...info, ageMs: 0 });
  await dying.stop(false); // heartbeats stop, the entry stays: as after kill -9
  const started = Date.now();
  while ((await watcher.list()).some((n) => n.id === 'crashed')) await new Promise((r) => setTimeout(r, 25));
  assert.ok(since(started) <= 650, `gone after ${since(started)} ms (TTL 500 ms)`);
  // The expired entry is pruned, not only skipped: the hash no longer holds it after a heartbeat.
  await watcher.beat();
  assert.equal(await client.hget('tether:{nodes}:info', 'crashed'), null);
  await watcher.stop();
});

test('a single SQLite relay has no cluster: 404 NOT_FOUND saying so; the list is the admin\'s only', async (t) => {
  const single = await createTestRelay(t);
  const res = await single.app.inject({ method: 'GET', url: '/v1/cluster/nodes', headers: bearer(ADMIN_TOKEN) });
  assert.equal(res.statusCode, 404);
  assert.equal(res.json<{ code: string }>().code, ErrorCode.NOT_FOUND);
  assert.match(res.json<{ message: string }>().message, /single node .*--redis/);
  const one = await node(t);
  const token = await createUser(one, 'mallory');
  const denied = await one.app.inject({ method: 'GET', url: '/v1/cluster/nodes', headers: bearer(token) });
  assert.equal(denied.statusCode, 403, denied.body);
});

test('user deleted on node A: its links on node B are closed with UNAUTHORIZED within 1 s', async (t) => {
  const [a, b] = [await node(t), await node(t)];
  const token = await createUser(a, 'bob');
  const host = await openLink(b, '/v1/host?tunnel=bobs', token);
  const connector = await openLink(b, '/v1/connect', token);
  const started = Date.now();
  assert.equal((await a.app.inject({ method: 'DELETE', url: '/v1/users/bob', headers: bearer(ADMIN_TOKEN) })).statusCode, 204);
  assert.deepEqual(await host.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  assert.deepEqual(await connector.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  assert.ok(since(started) < 1000, `closed after ${since(started)} ms`);
  await waitFor(() => b.router.linkCount() === 0);
});

test('token rotated on node A: the old token is refused on node B at once, and its link on B is closed', async (t) => {
  const [a, b] = [await node(t), await node(t)];
  const token = await createUser(a, 'erin');
  const host = await openLink(b, '/v1/host?tunnel=erins', token);
  const started = Date.now();
  assert.equal((await a.app.inject({ method: 'POST', url: '/v1/users/erin/token', headers: bearer(ADMIN_TOKEN) })).statusCode, 200);
  assert.equal((await b.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) })).statusCode, 401);
  assert.deepEqual(await host.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  assert.ok(since(started) < 1000, `closed after ${since(started)} ms`);
  await assert.rejects(openLink(b, '/v1/host?tunnel=erins', token), /refused with 401/);
});

test('tunnel deleted on node A: node B drops it from its one-second tunnel cache (an open on B sees it gone at once)', async (t) => {
  const [a, b] = [await node(t), await node(t)];
  const token = await createUser(a, 'fay');
  const host = await openLink(a, '/v1/host?tunnel=fays', token);
  host.close();
  await waitFor(() => a.router.linkCount() === 0);
  const connector = await openLink(b, '/v1/connect', token);
  // The first OPEN on B caches the tunnel's record there (the tunnel exists, no host on B).
  const cachedAt = Date.now();
  connector.send(encodeOpen(1, 65_536, 'fays'));
  assert.equal((await connector.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.TUNNEL_OFFLINE);
  let res = await a.app.inject({ method: 'DELETE', url: '/v1/tunnels/fays', headers: bearer(token) });
  // The host's lease on A may outlive its link by a moment.
  while (res.statusCode === 409) res = await a.app.inject({ method: 'DELETE', url: '/v1/tunnels/fays', headers: bearer(token) });
  assert.equal(res.statusCode, 204, res.body);
  await new Promise((r) => setTimeout(r, 100));
  connector.send(encodeOpen(3, 65_536, 'fays'));
  assert.equal((await connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_UNKNOWN);
  // Within the cache's second: without the message, B would still have answered from its cache.
  assert.ok(since(cachedAt) < 1000, `second open ${since(cachedAt)} ms after the record was cached`);
});

test('a malformed invalidation message is ignored and logged; the node keeps acting on the next good one', async (t) => {
  const warnings: string[] = [];
  const logger = { level: 'warn', stream: { write: (line: string) => warnings.push(line) } };
  const [a, b] = [await node(t), await node(t, { logger })];
  const token = await createUser(a, 'gus');
  const host = await openLink(b, '/v1/host?tunnel=guss', token);
  const publisher = new Redis(redis!.server.url);
  t.after(() => publisher.quit());
  const channel = invalidationChannel();
  for (const bad of ['not json', '{"kind":"user-revoked","origin":"x","userId":"1"}', '{"kind":"explode"}', '[]', 'null', 'x'.repeat(10_000)]) await publisher.publish(channel, bad);
  await waitFor(() => warnings.filter((w) => w.includes('malformed invalidation')).length === 6);
  assert.equal(b.router.linkCount(), 1);
  assert.equal((await a.app.inject({ method: 'DELETE', url: '/v1/users/gus', headers: bearer(ADMIN_TOKEN) })).statusCode, 204);
  assert.deepEqual(await host.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
});

test('invalidation messages are checked field by field', () => {
  assert.deepEqual(parseInvalidation('{"kind":"tunnel-deleted","origin":"n1","name":"web","extra":1}'), { kind: 'tunnel-deleted', origin: 'n1', name: 'web' });
  assert.equal(parseInvalidation('{"kind":"tunnel-deleted","origin":"n1","name":""}'), undefined);
  assert.deepEqual(parseInvalidation('{"kind":"tunnel-disabled","origin":"n1","name":"web","disabled":true,"reason":"abuse"}'), { kind: 'tunnel-disabled', origin: 'n1', name: 'web', disabled: true, reason: 'abuse' });
  assert.equal(parseInvalidation('{"kind":"tunnel-disabled","origin":"n1","name":"web","disabled":"yes","reason":""}'), undefined);
  assert.equal(parseInvalidation('{"kind":"tunnel-disabled","origin":"n1","name":"web","disabled":false}'), undefined);
  assert.equal(parseInvalidation('{"kind":"user-revoked","origin":"n1","userId":-1,"user":"a","reason":"r","deleted":true}'), undefined);
  assert.equal(parseInvalidation('{"kind":"user-revoked","origin":"n1","userId":3,"user":"a","reason":"r","deleted":"yes"}'), undefined);
  assert.equal(parseInvalidation('{"kind":"user-revoked","userId":3,"user":"a","reason":"r","deleted":true}'), undefined);
});

test('Redis down: a publish fails with a warning (the local action stands); once Redis is back the node drops its caches', async (t) => {
  const lines: string[] = [];
  const logger = { level: 'info', stream: { write: (line: string) => lines.push(line) } };
  const a = await node(t, { logger });
  let dropped = 0;
  const forgetUsers = a.policy.forgetUsers.bind(a.policy);
  a.policy.forgetUsers = () => {
    dropped++;
    forgetUsers();
  };
  const client = new Redis(redis!.server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  t.after(() => client.disconnect());
  await new Promise((resolve) => client.once('ready', resolve));
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, m: string) => warnings.push(m), info: () => undefined, error: () => undefined } as never;
  const publisher = new RedisInvalidations(client, 'other', { apply: () => undefined, resubscribed: () => undefined }, log);

  await redis!.server.stop();
  t.after(() => redis!.server.start().catch(() => undefined));
  publisher.publish({ kind: 'tunnel-deleted', origin: 'other', name: 'web' });
  await waitFor(() => warnings.length > 0);
  assert.match(warnings[0], /could not tell the other nodes \(Redis unreachable\): acted on this node only/);
  await waitFor(() => lines.some((w) => w.includes('invalidation subscription lost')));
  assert.equal(dropped, 0);
  await redis!.server.start();
  await waitFor(() => dropped > 0);
  // The log of missed messages is read after the caches are dropped, and then said.
  await waitFor(() => lines.some((w) => w.includes('invalidation subscription back')));
});

test('with Redis, listening on every interface needs an advertise URL; bad advertise URLs and node ids are refused', async () => {
  await assert.rejects(startRelay({ adminToken: ADMIN_TOKEN, logger: false, host: '0.0.0.0', port: 0, redis: { url: 'redis://127.0.0.1:1' }, clusterSecret: SECRET }), {
    code: ErrorCode.INVALID_CONFIG,
    message: /listening on every interface \(--host 0\.0\.0\.0\) needs --advertise URL/,
  });
  await assert.rejects(buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: 'redis://127.0.0.1:1' }, clusterSecret: SECRET, advertise: 'http://0.0.0.0:80' }), {
    code: ErrorCode.INVALID_CONFIG,
    message: /--advertise must name an address other nodes can connect to/,
  });
  await assert.rejects(buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: 'redis://127.0.0.1:1' }, clusterSecret: SECRET, advertise: 'ftp://x' }), { code: ErrorCode.INVALID_CONFIG, message: /http:\/\/ or https:\/\// });
  await assert.rejects(startRelay({ adminToken: ADMIN_TOKEN, logger: false, port: 0, nodeId: 'bad id!', redis: { url: 'redis://127.0.0.1:1' }, clusterSecret: SECRET }), { code: ErrorCode.INVALID_CONFIG, message: /--node-id takes/ });
});

test('a node id already used by a live node elsewhere is refused at start; a restart at the same address takes its own id over', async (t) => {
  const client = new Redis(redis!.server.url, { lazyConnect: false });
  t.after(() => client.quit());
  const errors: string[] = [];
  const log = { warn: () => undefined, info: () => undefined, error: (_: unknown, msg: string) => errors.push(msg) } as never;
  const info = (advertise: string) => () => ({ id: 'twin', advertise, version: '1', startedAt: new Date().toISOString(), links: 0, streams: 0 });
  const first = new NodeRegistry(client, info('http://10.0.0.1:8080'), log, { heartbeatMs: 60_000, ttlMs: 5000 });
  await first.start();
  t.after(() => first.stop());
  const twin = new NodeRegistry(client, info('http://10.0.0.2:8080'), log, { heartbeatMs: 60_000, ttlMs: 5000 });
  await assert.rejects(twin.start(), {
    code: ErrorCode.INVALID_CONFIG,
    message: /^node id twin is in use by a live node \(http:\/\/10\.0\.0\.1:8080, started .+\): give every node its own --node-id/,
  });
  // The same address again: the first process was killed and this is its restart.
  const restarted = new NodeRegistry(client, info('http://10.0.0.1:8080'), log, { heartbeatMs: 60_000, ttlMs: 5000 });
  await restarted.start();
  t.after(() => restarted.stop(false));
  // The old process, still running after all (it was frozen), does not take the id back.
  await first.beat();
  assert.deepEqual(errors, ['another process heartbeats as this node id: this node is no longer listed; give every node its own --node-id']);
  await first.beat();
  assert.equal(errors.length, 1, 'said once');
  const listed = JSON.parse((await client.hget('tether:{nodes}:info', 'twin'))!) as { instance: string };
  assert.notEqual(listed.instance, undefined);
  await restarted.beat();
});

test('startRelay with a node id a live node elsewhere uses exits with INVALID_CONFIG and closes what it opened', async (t) => {
  const one = await node(t, { nodeId: 'dup-node', advertise: 'http://10.9.9.9:8080' });
  assert.ok(one);
  await assert.rejects(
    startRelay({ port: 0, redis: { url: redis!.server.url }, clusterSecret: SECRET, adminToken: ADMIN_TOKEN, nodeId: 'dup-node', logger: false }),
    { code: ErrorCode.INVALID_CONFIG, message: /node id dup-node is in use by a live node \(http:\/\/10\.9\.9\.9:8080/ },
  );
});

/** A TCP proxy to `port` that the test can cut (every connection dropped, new ones refused) and mend. */
async function cuttableProxy(t: TestContext, port: number): Promise<{ port: number; cut: () => void; mend: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let listenPort = 0;
  const make = (): net.Server => net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  let server = make();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listenPort = (server.address() as net.AddressInfo).port;
  t.after(() => {
    server.close();
    for (const s of sockets) s.destroy();
  });
  return {
    port: listenPort,
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
    mend: async () => {
      server = make();
      await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
    },
  };
}

test('a node cut off from Redis while a user was revoked replays the messages it missed, in order, once it is back', { timeout: 20_000 }, async (t) => {
  const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined } as never;
  const proxy = await cuttableProxy(t, redis!.server.port);
  const direct = new Redis(redis!.server.url);
  // Like the store's client: lazy (its duplicate, the subscriber, connects when told), fail fast.
  const viaProxy = new Redis(`redis://127.0.0.1:${proxy.port}`, { lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  viaProxy.on('error', () => undefined);
  await viaProxy.connect();
  t.after(() => {
    direct.disconnect();
    viaProxy.disconnect();
  });
  const applied: Invalidation[] = [];
  let resubscribed = 0;
  const b = new RedisInvalidations(viaProxy, 'node-b', { apply: (m) => applied.push(m), resubscribed: () => resubscribed++ }, quiet);
  const a = new RedisInvalidations(direct, 'node-a', { apply: () => undefined, resubscribed: () => undefined }, quiet);
  t.after(() => b.close());
  t.after(() => a.close());
  // Something logged before B started is not replayed to it.
  a.publish({ kind: 'tunnel-deleted', origin: 'node-a', name: 'before' });
  while ((await direct.xlen(invalidationLog())) === 0) await new Promise((r) => setTimeout(r, 5));
  await b.start();
  a.publish({ kind: 'tunnel-deleted', origin: 'node-a', name: 'live' });
  await waitFor(() => applied.length === 1);

  proxy.cut();
  await waitFor(() => viaProxy.status !== 'ready');
  a.publish({ kind: 'user-revoked', origin: 'node-a', userId: 7, user: 'ivy', reason: 'user deleted', deleted: true });
  a.publish({ kind: 'tunnel-deleted', origin: 'node-a', name: 'gone' });
  b.publish({ kind: 'tunnel-deleted', origin: 'node-b', name: 'lost' }); // fails: B is cut off
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(applied.length, 1, 'nothing reaches B while it is cut off');
  await proxy.mend();
  await waitFor(() => applied.length === 3);
  assert.deepEqual(applied.map((m) => (m.kind === 'user-revoked' ? m.user : m.kind === 'tunnel-deleted' || m.kind === 'tunnel-disabled' ? m.name : m.tunnel)), ['live', 'ivy', 'gone']);
  assert.equal(resubscribed, 1);
  // Live messages after the replay are acted on once each, in order.
  a.publish({ kind: 'tunnel-deleted', origin: 'node-a', name: 'after' });
  await waitFor(() => applied.length === 4);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(applied.length, 4);
  assert.equal(await b.replay(), 0, 'a replay now finds nothing new');
});

test('stream ids compare as ms-seq numbers', () => {
  assert.equal(streamIdAfter('1700000000001-0', '1700000000000-5'), true);
  assert.equal(streamIdAfter('1700000000000-10', '1700000000000-9'), true);
  assert.equal(streamIdAfter('1700000000000-9', '1700000000000-9'), false);
  assert.equal(streamIdAfter('99-0', '100-0'), false);
  assert.equal(streamIdAfter('x', '0-0'), false);
});

test("a member removed through node A: its stream through node B (to a host on B) is reset within 1 s with TUNNEL_FORBIDDEN", async (t) => {
  const [a, b] = [await node(t), await node(t)];
  const owner = await createUser(a, 'otto');
  const member = await createUser(a, 'mona');
  const host = await openLink(b, '/v1/host?tunnel=ottos', owner);
  const put = await a.app.inject({ method: 'PUT', url: '/v1/tunnels/ottos/members/mona', headers: bearer(owner), payload: { role: 'connect' } });
  assert.equal(put.statusCode, 200, put.body);
  const connector = await openLink(b, '/v1/connect', member);
  connector.send(encodeOpen(1, 65_536, 'ottos'));
  const open = await host.nextOf(FrameType.OPEN);
  host.send(encodeOpenOk(open.streamId, 65_536));
  await connector.nextOf(FrameType.OPEN_OK, 1);
  const started = Date.now();
  assert.equal((await a.app.inject({ method: 'DELETE', url: '/v1/tunnels/ottos/members/mona', headers: bearer(owner) })).statusCode, 204);
  const reset = await connector.nextOf(FrameType.RESET, 1);
  assert.ok(since(started) < 1000, `reset after ${since(started)} ms`);
  assert.equal(reset.code, WireCode.TUNNEL_FORBIDDEN);
  assert.equal(reset.message, 'removed from the tunnel');
  // Node B decides from the store, not a stale cache: a new open is refused at once.
  connector.send(encodeOpen(3, 65_536, 'ottos'));
  assert.equal((await connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_UNKNOWN);
});
