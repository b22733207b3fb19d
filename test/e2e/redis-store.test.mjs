// Two `tether relay` processes on one real redis-server: users, tokens and tunnel names are
// shared between them, each lists the other (node registry), and a revocation on one reaches
// the other (pub/sub) (docs/cluster.md). Streams routed between nodes: cluster.test.mjs.
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, startRedisCluster } from '../../relay/dist/test-support/redis-server.js';
import { CLI, cleanEnv, createUser, HANG_GUARD, Processes, requirePrograms, run, startRelay, startShare, tempDir, tether } from './fixtures.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-shared-by-nodes';
const SECRET = 'e2e-cluster-secret-0123456789';

describe('two relays on one Redis', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let redis;
  let one;
  let two;
  let target;
  before(async () => {
    requirePrograms();
    redis = await startRedis();
    const node = (name) => startRelay(procs, tmp.path, {
      dataDir: join(tmp.path, name),
      args: ['--redis', redis.server.url, '--node-id', `e2e-${name}`],
      env: { TETHER_CLUSTER_SECRET: SECRET },
      adminToken: ADMIN_TOKEN,
    });
    one = await node('one');
    two = await node('two');
    target = net.createServer((s) => s.on('error', () => undefined).end('hello\n'));
    target.listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
  });
  after(async () => {
    await procs.stopAll();
    target?.close();
    await redis?.stop();
    tmp.dispose();
  });

  test('each node says at startup where its state is', async () => {
    await one.proc.waitFor('stderr', /^Users, tokens and tunnel names in Redis at redis:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(two.proc.stderr.text, /cluster mode is partial/);
  });

  test('a user created through relay 1 signs in on relay 2', async () => {
    const bob = await createUser(one, 'bob');
    const r = await tether(['tunnels', '--relay', two.url], { token: bob });
    assert.equal(r.code, 0, r.stderr);
    const list = await tether(['user', 'list'], { relay: two.url, token: ADMIN_TOKEN });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^bob\t/m);
  });

  test("a name shared through relay 2 is refused to another user on relay 1, as on one relay", async () => {
    const carol = await createUser(two, 'carol');
    const dave = await createUser(one, 'dave');
    const port = target.address().port;
    await startShare(procs, { url: two.url, token: carol, tunnel: 'e2e-shared-name', targetPort: port });
    const r = await run(process.execPath, [CLI, 'share', 'e2e-shared-name', '--target', `127.0.0.1:${port}`], { env: cleanEnv({ TETHER_RELAY: one.url, TETHER_TOKEN: dave }) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tunnel e2e-shared-name belongs to another user.*\[TETHER_ERR_TUNNEL_FORBIDDEN\]/);
    const owner = await tether(['tunnels'], { relay: one.url, token: ADMIN_TOKEN });
    assert.match(owner.stdout, /e2e-shared-name.*carol/);
  });

  test('tether cluster status through either node lists both: id, advertise URL, version, links, streams, heartbeat age', async () => {
    for (const relay of [one, two]) {
      const r = await tether(['cluster', 'status'], { relay: relay.url, token: ADMIN_TOKEN });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(lines.map((l) => [l[0], l[1]]), [['e2e-one', one.url], ['e2e-two', two.url]]);
      for (const l of lines) {
        assert.equal(l.length, 6);
        assert.match(l[2], /^\d+\.\d+\.\d+/);
        assert.match(l[3], /^\d+$/);
        assert.match(l[4], /^\d+$/);
        assert.match(l[5], /^\d+\.\ds$/);
        assert.ok(Number.parseFloat(l[5]) < 6, `heartbeat age ${l[5]}`);
      }
    }
    const user = await createUser(one, 'erin');
    const denied = await tether(['cluster', 'status'], { relay: one.url, token: user });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /\[TETHER_ERR_FORBIDDEN\]$/m);
  });

  test("a user deleted through node 1 stops its share on node 2 within a few seconds (exit 1, the unauthorized line)", async (t) => {
    const frank = await createUser(one, 'frank');
    const proc = await startShare(procs, { url: two.url, token: frank, tunnel: 'e2e-frank', targetPort: target.address().port });
    const started = Date.now();
    const deleted = await tether(['user', 'delete', 'frank'], { relay: one.url, token: ADMIN_TOKEN });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await proc.exited, 1, proc.stderr.text);
    const elapsed = Date.now() - started;
    t.diagnostic(`share exited ${elapsed} ms after tether user delete was started`);
    assert.ok(elapsed < 3000, `share exited ${elapsed} ms after the delete`);
    assert.match(proc.stderr.text, /^tether: stopped sharing e2e-frank: .+ \[TETHER_ERR_UNAUTHORIZED\]$/m);
    assert.doesNotMatch(proc.stderr.text, /^\s+at /m);
  });

  test('a single relay (SQLite) answers tether cluster status with one sentence: it has no cluster', async () => {
    const single = await startRelay(procs, tmp.path, { dataDir: join(tmp.path, 'single') });
    const r = await tether(['cluster', 'status'], { relay: single.url, token: single.adminToken });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tether: this relay is a single node .* \[TETHER_ERR_NOT_FOUND\]\n$/);
  });

  test('a relay on Redis listening on every interface without --advertise exits 1 with one sentence', async () => {
    const r = await run(process.execPath, [CLI, 'relay', '--host', '0.0.0.0', '--port', '0', '--redis', redis.server.url], { env: cleanEnv({ TETHER_ADMIN_TOKEN: ADMIN_TOKEN, TETHER_CLUSTER_SECRET: SECRET }) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tether: a relay on Redis listening on every interface \(--host 0\.0\.0\.0\) needs --advertise URL .*\[TETHER_ERR_INVALID_CONFIG\]\n$/);
  });

  test('a relay given --redis without a cluster secret exits 1 with one sentence', async () => {
    const r = await run(process.execPath, [CLI, 'relay', '--port', '0', '--redis', redis.server.url], { env: cleanEnv({ TETHER_ADMIN_TOKEN: ADMIN_TOKEN }) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tether: a relay on Redis needs --cluster-secret (or TETHER_CLUSTER_SECRET): give every node of the cluster the same secret of at least 16 characters [TETHER_ERR_INVALID_CONFIG]\n');
    assert.equal(r.stdout, '');
  });

  test('SIGTERM: the node drains, exits 0 and leaves the registry at once; a kill -9 leaves it listed until its heartbeat expires (6 s)', async () => {
    assert.equal(await procs.stop(two.proc), 0);
    const r = await tether(['cluster', 'status'], { relay: one.url, token: ADMIN_TOKEN });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.split('\t')[0]), ['e2e-one']);

    const three = await startRelay(procs, tmp.path, { dataDir: join(tmp.path, 'three'), args: ['--redis', redis.server.url, '--node-id', 'e2e-three'], env: { TETHER_CLUSTER_SECRET: SECRET }, adminToken: ADMIN_TOKEN });
    const ids = async () => (await tether(['cluster', 'status'], { relay: one.url, token: ADMIN_TOKEN })).stdout.trimEnd().split('\n').map((l) => l.split('\t')[0]);
    assert.deepEqual(await ids(), ['e2e-one', 'e2e-three']);
    await procs.stop(three.proc, 'SIGKILL');
    const killed = Date.now();
    assert.deepEqual(await ids(), ['e2e-one', 'e2e-three']);
    // Timed by when each look starts: a `tether cluster status` of its own takes a while on a
    // loaded machine, and that is not the registry's doing.
    let lookedAt = Date.now();
    while ((await ids()).includes('e2e-three')) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      lookedAt = Date.now();
    }
    const gone = lookedAt - killed;
    assert.ok(gone < 15_000, `still listed ${gone} ms after kill -9 (TTL 6 s after its last heartbeat, every 2 s)`);
  });
});

describe('a relay on a Redis Cluster', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let cluster;
  after(async () => {
    await procs.stopAll();
    await cluster?.stop();
    tmp.dispose();
  });

  test('TETHER_REDIS_CLUSTER with two seed nodes of six: users created on one relay sign in on another; both are listed; a deletion on one stops a share on the other', async () => {
    requirePrograms();
    cluster = await startRedisCluster();
    const seeds = cluster.servers.slice(0, 2).map((s) => s.url).join(',');
    const node = (name) => startRelay(procs, tmp.path, { dataDir: join(tmp.path, name), env: { TETHER_REDIS_CLUSTER: seeds, TETHER_CLUSTER_SECRET: SECRET, TETHER_NODE_ID: `rc-${name}` }, adminToken: ADMIN_TOKEN });
    const one = await node('one');
    const two = await node('two');
    await one.proc.waitFor('stderr', /^Users, tokens and tunnel names in Redis at cluster redis:\/\/127\.0\.0\.1:\d+,redis:\/\/127\.0\.0\.1:\d+/);
    const erin = await createUser(one, 'erin');
    const r = await tether(['tunnels', '--relay', two.url], { token: erin });
    assert.equal(r.code, 0, r.stderr);
    const status = await tether(['cluster', 'status'], { relay: two.url, token: ADMIN_TOKEN });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(status.stdout.trimEnd().split('\n').map((l) => l.split('\t').slice(0, 2)), [['rc-one', one.url], ['rc-two', two.url]]);
    // The publish goes through whichever Redis node the publisher uses; a regular PUBLISH is
    // broadcast to every node of the Redis Cluster, so node two's subscriber hears it.
    const target = net.createServer((s) => s.on('error', () => undefined).end('hello\n'));
    target.listen(0, '127.0.0.1');
    await new Promise((resolve) => target.once('listening', resolve));
    try {
      const share = await startShare(procs, { url: two.url, token: erin, tunnel: 'e2e-rc-erin', targetPort: target.address().port });
      const deleted = await tether(['user', 'delete', 'erin'], { relay: one.url, token: ADMIN_TOKEN });
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(await share.exited, 1, share.stderr.text);
      assert.match(share.stderr.text, /\[TETHER_ERR_UNAUTHORIZED\]$/m);
    } finally {
      target.close();
    }
  });
});
