// Two `tether relay` processes on one real redis-server: users, tokens and tunnel names are
// shared between them (the first slice of the Redis cluster, docs/cluster.md). Streams are not
// routed between nodes yet, so nothing here connects through one node to a host on the other.
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
      args: ['--redis', redis.server.url],
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

  test('each node says at startup where its state is and that streams are not routed between nodes', async () => {
    await one.proc.waitFor('stderr', /^Users, tokens and tunnel names in Redis at redis:\/\/127\.0\.0\.1:\d+/);
    assert.match(await two.proc.waitFor('stderr', /cluster mode is partial/), /streams are not routed between nodes yet/);
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

  test('a relay given --redis without a cluster secret exits 1 with one sentence', async () => {
    const r = await run(process.execPath, [CLI, 'relay', '--port', '0', '--redis', redis.server.url], { env: cleanEnv({ TETHER_ADMIN_TOKEN: ADMIN_TOKEN }) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'tether: a relay on Redis needs --cluster-secret (or TETHER_CLUSTER_SECRET): give every node of the cluster the same secret of at least 16 characters [TETHER_ERR_INVALID_CONFIG]\n');
    assert.equal(r.stdout, '');
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

  test('TETHER_REDIS_CLUSTER with two seed nodes of six: users created on one relay sign in on another', async () => {
    requirePrograms();
    cluster = await startRedisCluster();
    const seeds = cluster.servers.slice(0, 2).map((s) => s.url).join(',');
    const node = (name) => startRelay(procs, tmp.path, { dataDir: join(tmp.path, name), env: { TETHER_REDIS_CLUSTER: seeds, TETHER_CLUSTER_SECRET: SECRET }, adminToken: ADMIN_TOKEN });
    const one = await node('one');
    const two = await node('two');
    await one.proc.waitFor('stderr', /^Users, tokens and tunnel names in Redis at cluster redis:\/\/127\.0\.0\.1:\d+,redis:\/\/127\.0\.0\.1:\d+/);
    const erin = await createUser(one, 'erin');
    const r = await tether(['tunnels', '--relay', two.url], { token: erin });
    assert.equal(r.code, 0, r.stderr);
  });
});
