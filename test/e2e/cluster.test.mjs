// Three `tether relay` nodes on one real redis-server, streams routed between them: a host
// shared on one node, reached with real OpenSSH through another; nodes killed and drained and
// Redis stopped under live transfers (docs/cluster.md). Nothing here is mocked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { RedisProcess, freePort as freeRedisPort, startRedisCluster } from '../../relay/dist/test-support/redis-server.js';
import {
  createUser, freePort, HANG_GUARD, Processes, randomFile, requirePrograms, scp, sha256File, startConnect, startRelay, startShare, startSshd, tempDir, tether,
} from './fixtures.mjs';

const MiB = 1024 * 1024;
const ADMIN_TOKEN = 'e2e-admin-token-of-the-cluster';
const SECRET = 'e2e-cluster-secret-0123456789';

function sizeOf(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

async function until(condition, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Counts from a node's /readyz (admin): hosts, connectors, streams. */
async function readyz(node) {
  const res = await fetch(`${node.url}/readyz`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return res.json();
}

/** An echo server: each connection gets back what it sends. */
async function echoServer() {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

/** Sends `bytes` random bytes on a new connection to 127.0.0.1:port and checks the echo; resolves its SHA-256. */
function echoRoundTrip(port, bytes) {
  return new Promise((resolve, reject) => {
    const data = randomBytes(bytes);
    const sent = createHash('sha256').update(data).digest('hex');
    const got = createHash('sha256');
    let received = 0;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    socket.on('data', (chunk) => {
      got.update(chunk);
      received += chunk.length;
      if (received >= bytes) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (received !== bytes) return reject(new Error(`echo: ${received} of ${bytes} bytes came back`));
      const back = got.digest('hex');
      if (back !== sent) return reject(new Error('echo: the bytes that came back differ'));
      resolve(back);
    });
  });
}

describe('three relays on one Redis: streams routed between nodes', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-cluster-');
  /** { name, id, port, url, proc } */
  const nodes = {};
  let redis;
  let sshd;
  let echo;
  let token;

  const startNode = async (name, port) => {
    const relay = await startRelay(procs, tmp.path, {
      port,
      dataDir: join(tmp.path, name),
      args: ['--redis', redis.url, '--node-id', `e2e-${name}`],
      env: { TETHER_CLUSTER_SECRET: SECRET },
      adminToken: ADMIN_TOKEN,
    });
    nodes[name] = { name, id: `e2e-${name}`, port, url: relay.url, proc: relay.proc, adminToken: ADMIN_TOKEN };
    return nodes[name];
  };
  const via = (node, tunnel) => ({ port: sshd.port, key: sshd.key, proxyTunnel: tunnel, relay: node.url, token });

  before(async () => {
    requirePrograms();
    // AOF with fsync on every write, as docs/cluster.md asks of production: a Redis restart keeps users.
    redis = new RedisProcess(await freeRedisPort(), mkdtempSync(join(tmpdir(), 'tether-redis-')), ['--appendonly', 'yes', '--appendfsync', 'always']);
    await redis.start();
    procs.defer(() => redis.stop());
    sshd = await startSshd(procs, tmp.path);
    for (const name of ['one', 'two', 'three']) await startNode(name, await freePort());
    token = await createUser(nodes.one, 'alice');
    echo = await echoServer();
    await startShare(procs, { url: nodes.one.url, token, tunnel: 'x-box', targetPort: sshd.port });
    await startShare(procs, { url: nodes.one.url, token, tunnel: 'x-echo', targetPort: echo.address().port });
  });

  after(async () => {
    await procs.stopAll();
    echo?.close();
    tmp.dispose();
  });

  test('a user created through node 1 signs in on node 3 and sees its tunnels online there, though they are shared on node 1', async () => {
    const r = await tether(['tunnels'], { relay: nodes.three.url, token });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n').sort(), ['x-box\tonline\talice\towner', 'x-echo\tonline\talice\towner']);
    assert.equal((await readyz(nodes.three)).hosts, 0);
  });

  test('scp through node 2 only to a host shared on node 1 only: 64 MiB up and down, SHA-256 intact, over one peer link', async (t) => {
    const file = join(tmp.path, 'up.bin');
    const expected = await randomFile(file, 64 * MiB);
    const remote = join(tmp.path, 'remote.bin');
    let started = Date.now();
    const up = await scp(via(nodes.two, 'x-box'), file, `root@127.0.0.1:${remote}`);
    t.diagnostic(`64 MiB up across nodes in ${Date.now() - started} ms`);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await sha256File(remote), expected);
    const back = join(tmp.path, 'down.bin');
    started = Date.now();
    const down = await scp(via(nodes.two, 'x-box'), `root@127.0.0.1:${remote}`, back);
    t.diagnostic(`64 MiB down across nodes in ${Date.now() - started} ms`);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(await sha256File(back), expected);
    assert.match(nodes.two.proc.stderr.text, /peer link opened/);
    assert.match(nodes.one.proc.stderr.text, /peer link accepted/);
    assert.equal((nodes.two.proc.stderr.text.match(/peer link opened/g) ?? []).length, 1, 'both copies over the same peer link');
  });

  test('100 parallel streams through node 2 to an echo service shared on node 1: every byte comes back intact', async (t) => {
    const connect = await startConnect(procs, { url: nodes.two.url, token, tunnel: 'x-echo' });
    try {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 100 }, () => echoRoundTrip(connect.port, 256 * 1024)));
      t.diagnostic(`100 × 256 KiB echoed across nodes in ${Date.now() - started} ms`);
      assert.equal(new Set(results).size, 100);
    } finally {
      await procs.stop(connect.proc);
    }
  });

  test('tether connect given node 2 first and node 1 second prefers node 1, which serves the tunnel itself (the relay names it)', async () => {
    const status = await fetch(`${nodes.two.url}/v1/tunnels/x-echo`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
    assert.deepEqual(status.servedBy, [nodes.one.url]);
    // The count below must start from zero: the previous test's streams through node 2 end when
    // its connector exits, which node 2 may not have noticed yet.
    await until(async () => (await readyz(nodes.two)).streams === 0, "node 2 to close the previous test's streams");
    const connect = await startConnect(procs, { url: `${nodes.two.url} ${nodes.one.url}`, token, tunnel: 'x-echo' });
    const socket = net.connect(connect.port, '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      socket.write('ping');
      await new Promise((resolve) => socket.once('data', resolve));
      assert.equal((await readyz(nodes.two)).streams, 0, 'nothing through node 2');
      assert.ok((await readyz(nodes.one)).streams >= 1);
    } finally {
      socket.destroy();
      await procs.stop(connect.proc);
    }
  });

  test("a user deleted through node 1: that user's stream through node 2 is closed within 1 s", async (t) => {
    const bob = await createUser(nodes.one, 'bob');
    await startShare(procs, { url: nodes.one.url, token: bob, tunnel: 'x-bob', targetPort: echo.address().port });
    const connect = await startConnect(procs, { url: nodes.two.url, token: bob, tunnel: 'x-bob' });
    const socket = net.connect(connect.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('ping');
    await new Promise((resolve) => socket.once('data', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const deleted = await tether(['user', 'delete', 'bob'], { relay: nodes.one.url, token: ADMIN_TOKEN });
    const at = Date.now();
    assert.equal(deleted.code, 0, deleted.stderr);
    await closed;
    t.diagnostic(`stream closed ${Date.now() - at} ms after the delete returned`);
    assert.ok(Date.now() - at < 1000, `closed ${Date.now() - at} ms after the delete`);
    await procs.stop(connect.proc);
  });

  test('kill -9 of the node holding the host link during a cross-node scp, the host also on node 3: the copy completes intact', async (t) => {
    await startShare(procs, { url: `${nodes.one.url} ${nodes.three.url}`, token, tunnel: 'x-pool', targetPort: sshd.port });
    await until(async () => (await readyz(nodes.three)).hosts === 1, 'the pool host to register on node 3');
    const file = join(tmp.path, 'pool.bin');
    const expected = await randomFile(file, 64 * MiB);
    const remote = join(tmp.path, 'pool-remote.bin');
    const copying = scp(via(nodes.two, 'x-pool'), file, `root@127.0.0.1:${remote}`);
    await until(() => sizeOf(remote) > 12 * MiB, 'the copy to be under way');
    const killedAt = Date.now();
    await procs.stop(nodes.one.proc, 'SIGKILL');
    const r = await copying;
    t.diagnostic(`copy done ${Date.now() - killedAt} ms after kill -9 of node 1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(remote), expected);
    assert.match(nodes.two.proc.stderr.text, /"node":"e2e-three".*peer link opened|peer link opened.*"node":"e2e-three"/);
    // Node 1 comes back (same id and port) and its hosts register with it again.
    await startNode('one', nodes.one.port);
    // x-box, x-echo and x-pool (bob's share ended with bob).
    await until(async () => (await readyz(nodes.one)).hosts === 3, 'the hosts to register on node 1 again');
  });

  test("SIGTERM of the connector's node during a cross-node scp: the stream moves to another node, the copy completes, the node exits 0", async (t) => {
    // x-box is shared on node 1 only; the copy goes through node 2 or node 3, whichever its pool picks.
    const file = join(tmp.path, 'drain.bin');
    const expected = await randomFile(file, 64 * MiB);
    const remote = join(tmp.path, 'drain-remote.bin');
    const copying = scp({ ...via(nodes.two, 'x-box'), relay: `${nodes.two.url} ${nodes.three.url}` }, file, `root@127.0.0.1:${remote}`);
    await until(() => sizeOf(remote) > 12 * MiB, 'the copy to be under way');
    const carrier = (await readyz(nodes.two)).streams > 0 ? nodes.two : nodes.three;
    assert.ok((await readyz(carrier)).streams > 0, 'node 2 or 3 carries it');
    const drained = procs.stop(carrier.proc);
    const r = await copying;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(remote), expected);
    assert.equal(await drained, 0);
    t.diagnostic(`node ${carrier.name} drained and exited 0`);
    await startNode(carrier.name, carrier.port);
  });

  test('Redis stopped for 20 s: a transfer under way finishes, new opens fail with STORE_UNAVAILABLE, and work again after Redis returns, no relay restarted', async (t) => {
    const connect = await startConnect(procs, { url: nodes.two.url, token, tunnel: 'x-echo', args: ['--queue-timeout-ms', '1500'] });
    // A transfer that spans the outage: 1 MiB every 200 ms for 24 s, echoed back.
    const socket = net.connect(connect.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let sentBytes = 0;
    let gotBytes = 0;
    socket.on('data', (c) => {
      got.update(c);
      gotBytes += c.length;
    });
    const pump = (async () => {
      for (let i = 0; i < 120; i++) {
        const chunk = randomBytes(MiB);
        sent.update(chunk);
        sentBytes += chunk.length;
        socket.write(chunk);
        await sleep(200);
      }
    })();
    await sleep(1000);
    await redis.stop();
    const stoppedAt = Date.now();
    const refused = await echoRoundTrip(connect.port, 1024).then(() => 'worked', (err) => err.message);
    // Refused: tether connect closes the local connection (or resets it, if it was still writing).
    assert.match(refused, /echo: 0 of 1024 bytes came back|ECONNRESET/);
    await until(() => /TETHER_ERR_STORE_UNAVAILABLE|cannot reach its shared store/.test(connect.proc.stderr.text), 'the connector to report the store', 5000);
    await sleep(Math.max(0, 20_000 - (Date.now() - stoppedAt)));
    const bytesDuringOutage = gotBytes;
    await redis.start();
    const restartedAt = Date.now();
    let recovered;
    for (;;) {
      if (await echoRoundTrip(connect.port, 1024).then(() => true, () => false)) {
        recovered = Date.now() - restartedAt;
        break;
      }
      if (Date.now() - restartedAt > 15_000) assert.fail('new opens did not work again within 15 s of Redis returning');
      await sleep(250);
    }
    t.diagnostic(`new opens work again ${recovered} ms after Redis returned`);
    await pump;
    await until(() => gotBytes === sentBytes, 'the echo of the long transfer', 20_000);
    assert.equal(got.digest('hex'), sent.digest('hex'));
    assert.ok(bytesDuringOutage > 50 * MiB, `only ${bytesDuringOutage} bytes came back by the end of the outage`);
    socket.destroy();
    await procs.stop(connect.proc);
    for (const node of Object.values(nodes)) assert.equal(node.proc.child.exitCode, null, `node ${node.name} kept running`);
  });
});

/** `redis-cli -p PORT ARGS…`, its output. */
function redisCli(port, ...args) {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return r.stdout ?? '';
}

/** The port of the master that serves `key`'s slot now, from CLUSTER NODES as seen by `port`. */
function masterOf(port, key) {
  const slot = Number(redisCli(port, 'CLUSTER', 'KEYSLOT', key).trim());
  for (const line of redisCli(port, 'CLUSTER', 'NODES').trim().split('\n')) {
    const fields = line.split(' ');
    if (!fields[2].includes('master') || fields[2].includes('fail')) continue;
    for (const range of fields.slice(8)) {
      const [lo, hi = lo] = range.split('-').map(Number);
      if (slot >= lo && slot <= hi) return Number(/:(\d+)@/.exec(fields[1])[1]);
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}

describe('two relays on a Redis Cluster: the master of the tunnel keys killed under a cross-node transfer', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-rc-');
  let cluster;
  after(async () => {
    await procs.stopAll();
    await cluster?.stop();
    tmp.dispose();
  });

  test('the copy completes intact, and new opens work again within 10 s of the kill', async (t) => {
    requirePrograms();
    cluster = await startRedisCluster();
    const seeds = cluster.servers.slice(0, 2).map((s) => s.url).join(',');
    const node = (name) => startRelay(procs, tmp.path, { dataDir: join(tmp.path, name), env: { TETHER_REDIS_CLUSTER: seeds, TETHER_CLUSTER_SECRET: SECRET, TETHER_NODE_ID: `rc-${name}` }, adminToken: ADMIN_TOKEN });
    const a = await node('a');
    const b = await node('b');
    const sshd = await startSshd(procs, tmp.path);
    const token = await createUser(a, 'rita');
    await startShare(procs, { url: a.url, token, tunnel: 'x-rc', targetPort: sshd.port });
    const victimPort = masterOf(cluster.servers[0].port, 'tether:{lease:x-rc}:holders');
    const victim = cluster.servers.find((s) => s.port === victimPort);
    // Its replica must be in sync, or there is nothing to promote.
    await until(() => /connected_slaves:1/.test(redisCli(victimPort, 'INFO', 'replication')) && /state=online/.test(redisCli(victimPort, 'INFO', 'replication')), 'the replica of the master to be in sync');

    const connect = await startConnect(procs, { url: b.url, token, tunnel: 'x-rc', args: ['--queue-timeout-ms', '1500'] });
    /** A new stream through node b: resolves true if sshd's banner comes back within 3 s. */
    const opens = () => new Promise((resolve) => {
      const socket = net.connect(connect.port, '127.0.0.1');
      const timer = setTimeout(() => finish(false), 3000);
      const finish = (ok) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(ok);
      };
      socket.on('data', (c) => finish(c.toString().startsWith('SSH-')));
      socket.on('error', () => finish(false));
      socket.on('close', () => finish(false));
    });
    assert.equal(await opens(), true, 'an open works before the kill');

    const file = join(tmp.path, 'rc.bin');
    const expected = await randomFile(file, 64 * MiB);
    const remote = join(tmp.path, 'rc-remote.bin');
    const copying = scp({ port: sshd.port, key: sshd.key, proxyTunnel: 'x-rc', relay: b.url, token }, file, `root@127.0.0.1:${remote}`);
    await until(() => sizeOf(remote) > 12 * MiB, 'the copy to be under way');
    await victim.stop();
    const killedAt = Date.now();
    let recovered;
    while (recovered === undefined) {
      if (await opens()) recovered = Date.now() - killedAt;
      else if (Date.now() - killedAt > 20_000) assert.fail('no new open worked within 20 s of the kill');
      else await sleep(200);
    }
    t.diagnostic(`new opens work again ${recovered} ms after kill -9 of the master of the tunnel's lease key`);
    const r = await copying;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256File(remote), expected);
    assert.ok(recovered < 10_000, `new opens worked again ${recovered} ms after the kill`);
  });
});
