// Usage analytics through real processes: a relay, `tether share` of a real TCP echo server and
// `tether connect` moving bytes through it; then `tether analytics --json` shows the tunnel's
// bytes and streams to its owner and the admin, not to another user; an open refused once the
// share stopped is counted by wire code; `tether analytics forecast` answers with little history (saying so), and bad
// flags get coded errors that say what to give. Then two relays on a real Redis Cluster: rows
// per node, a stream that crossed a peer link counted once, on its connector's node.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedisCluster } from '../../relay/dist/test-support/redis-server.js';
import { createUser, HANG_GUARD, Processes, startConnect, startRelay, startShare, tempDir, tether } from './fixtures.mjs';

/** Sends `bytes` through 127.0.0.1:port and resolves with what came back once the echo ended. */
async function echoThrough(port, bytes) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks = [];
  socket.on('data', (c) => chunks.push(c));
  socket.write(bytes);
  let received = 0;
  await new Promise((resolve, reject) => {
    socket.on('data', (c) => {
      received += c.length;
      if (received >= bytes.length) resolve();
    });
    socket.on('error', reject);
    socket.on('close', resolve);
  });
  socket.end();
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

/** Opens a TCP connection and waits for it to be closed by the far end (a refused tunnel open). */
async function refusedThrough(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.resume();
  await once(socket, 'close');
}

describe('tether analytics: usage of a real tunnel, per user visibility, forecast with short history', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-analytics-');
  let relay;
  let echo;
  const tokens = {};
  const as = (who, args) => tether(args, { relay: relay.url, token: who === 'admin' ? relay.adminToken : tokens[who] });
  const SIZE = 200_000;

  before(async () => {
    echo = net.createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    relay = await startRelay(procs, tmp.path);
    for (const name of ['alice', 'bob']) tokens[name] = await createUser(relay, name);
    const share = await startShare(procs, { url: relay.url, token: tokens.alice, tunnel: 'a-echo', targetPort: echo.address().port });
    const alice = await startConnect(procs, { url: relay.url, token: tokens.alice, tunnel: 'a-echo' });
    const payload = Buffer.alloc(SIZE, 7);
    for (let i = 0; i < 2; i++) assert.equal((await echoThrough(alice.port, payload)).length, SIZE);
    // Once the share stops, an open is refused (the tunnel is offline) and counted by its wire code.
    await procs.stop(share);
    await refusedThrough(alice.port);
  });

  after(async () => {
    await procs.stopAll();
    echo?.close();
    tmp.dispose();
  });

  /** `tether analytics ARGS --json` as `who`, parsed (polling until `until` holds, for closes still on their way). */
  async function analytics(who, args, until = () => true) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await as(who, ['analytics', ...args, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const answer = JSON.parse(r.stdout);
      if (until(answer) || Date.now() > deadline) return answer;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const sum = (rows, field) => rows.reduce((s, r) => s + r[field], 0);

  test('the owner sees the bytes each way, streams and sessions of the tunnel, per minute', async () => {
    const answer = await analytics('alice', ['--by', 'tunnel', '--step', 'minute'], (a) => sum(a.rows, 'closed') >= 2);
    assert.equal(answer.by, 'tunnel');
    const rows = answer.rows.filter((r) => r.key === 'a-echo');
    assert.ok(rows.length >= 1, JSON.stringify(answer));
    assert.deepEqual([...new Set(answer.rows.map((r) => r.key))], ['a-echo']);
    assert.ok(sum(rows, 'bytesUp') >= 2 * SIZE, `up ${sum(rows, 'bytesUp')}`);
    assert.ok(sum(rows, 'bytesDown') >= 2 * SIZE, `down ${sum(rows, 'bytesDown')}`);
    assert.equal(sum(rows, 'opened'), 2);
    assert.equal(sum(rows, 'closed'), 2);
    assert.ok(Math.max(...rows.map((r) => r.peak)) >= 1);
    assert.ok(sum(rows, 'durationMs') >= 0);
    // Per user: alice's streams, and the open refused once the share stopped, by wire code.
    const users = await analytics('alice', ['--by', 'user', '--step', 'hour']);
    assert.deepEqual(users.rows.map((r) => r.key), ['alice']);
    assert.equal(users.rows[0].opened, 2);
    assert.ok(Object.values(users.rows[0].failed).reduce((s, n) => s + n, 0) >= 1, JSON.stringify(users.rows));
    // The listing as text: tab-separated, one row per bucket and tunnel.
    const text = await as('alice', ['analytics', '--step', 'minute']);
    assert.equal(text.code, 0, text.stderr);
    const cells = text.stdout.trim().split('\n').at(-1).split('\t');
    assert.equal(cells.length, 10);
    assert.match(cells[9], /^(-|[a-z0-9]+:\d+(,[a-z0-9]+:\d+)*)$/, 'PROTOCOLS: ended streams by protocol');
    assert.equal(cells[1], 'a-echo');
  });

  test('another user does not see alice’s tunnel; the admin sees it, per node too', async () => {
    const bobs = await analytics('bob', ['--step', 'minute']);
    assert.equal(bobs.rows.filter((r) => r.key === 'a-echo').length, 0, JSON.stringify(bobs.rows));
    const empty = await as('bob', ['analytics', '--step', 'minute']);
    assert.equal(empty.code, 0);
    assert.match(empty.stderr, /^No usage from /);
    const admin = await analytics('admin', ['--step', 'minute']);
    assert.ok(sum(admin.rows.filter((r) => r.key === 'a-echo'), 'bytesUp') >= 2 * SIZE);
    const nodes = await analytics('admin', ['--by', 'node', '--step', 'day']);
    assert.equal(nodes.rows.length, 1);
    assert.ok(nodes.rows[0].bytesDown >= 2 * SIZE);
  });

  test('tether analytics forecast answers with little history: no table, "history is short", the backtest error unknown', async () => {
    const r = await as('admin', ['analytics', 'forecast', '--metric', 'streams', '--horizon', '24h', '--capacity', '10']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Forecast of concurrent streams \(peak per hour\) for the cluster, 24 h ahead, from \d+ hours? of history$/m);
    assert.match(r.stderr, /^Backtest error: unknown \(not enough history yet\)$/m);
    assert.match(r.stderr, /^Note: history is short: /m);
    const json = await as('alice', ['analytics', 'forecast', '--metric', 'bytes', '--horizon', '2d', '--scope', 'node', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const answer = JSON.parse(json.stdout);
    assert.equal(answer.forecast, null);
    assert.equal(answer.horizonHours, 48);
    assert.equal(answer.scope, 'node');
  });

  test('bad input: coded errors that say what to give', async () => {
    for (const [args, message] of [
      [['analytics', '--by', 'host'], /--by must be one of tunnel, user, node, got "host"/],
      [['analytics', '--from', 'yesterday'], /--from must be an ISO 8601 time/],
      [['analytics', '--from', '2026-12-02', '--to', '2026-12-01'], /--from must be before --to/],
      [['analytics', 'forecast', '--metric', 'streams'], /--horizon is required: a duration such as 48h, 7d or 2w/],
      [['analytics', 'forecast', '--metric', 'streams', '--horizon', '30m'], /--horizon must be whole hours, days or weeks/],
      [['analytics', 'forecast', '--metric', 'cpu', '--horizon', '1d'], /--metric must be one of streams, bytes, tunnels/],
      [['analytics', 'forecast', '--metric', 'streams', '--horizon', '1d', '--capacity', 'lots'], /--capacity must be a positive number/],
    ]) {
      const r = await as('alice', args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    // What only the relay can check comes back coded from it.
    const r = await as('alice', ['analytics', '--step', 'minute', '--from', '2020-01-01', '--to', '2026-01-01']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /shorten the range or use a coarser step/);
    assert.match(r.stderr, /TETHER_ERR_INVALID_ARGUMENT|invalid/i);
  });
});

describe('tether analytics on two relays sharing a real Redis Cluster: rows per node, counted once', HANG_GUARD, () => {
  const ADMIN_TOKEN = 'e2e-analytics-admin-token-0001';
  const SECRET = 'e2e-analytics-cluster-secret-0123456789';
  const procs = new Processes();
  const tmp = tempDir('tether-analytics-rc-');
  let cluster;
  let echo;
  let one;
  let two;
  let alice;
  const SIZE = 100_000;

  before(async () => {
    cluster = await startRedisCluster();
    const seeds = cluster.servers.slice(0, 3).map((s) => s.url).join(',');
    const node = (name) => startRelay(procs, tmp.path, { dataDir: join(tmp.path, name), env: { TETHER_REDIS_CLUSTER: seeds, TETHER_CLUSTER_SECRET: SECRET, TETHER_NODE_ID: `rc-${name}` }, adminToken: ADMIN_TOKEN });
    one = await node('one');
    two = await node('two');
    echo = net.createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    alice = await createUser(one, 'alice');
    await startShare(procs, { url: one.url, token: alice, tunnel: 'rc-echo', targetPort: echo.address().port });
    // One connector on the host's node, one on the other (its streams cross a peer link).
    for (const relay of [one, two]) {
      const conn = await startConnect(procs, { url: relay.url, token: alice, tunnel: 'rc-echo' });
      assert.equal((await echoThrough(conn.port, Buffer.alloc(SIZE, 1))).length, SIZE);
    }
  });

  after(async () => {
    await procs.stopAll();
    echo?.close();
    await cluster?.stop();
    tmp.dispose();
  });

  test('either node answers with both nodes’ rows; each stream counted once, where its connector is', async () => {
    const deadline = Date.now() + 15_000;
    let rows = [];
    for (;;) {
      // Each node flushes its own counts (every 5 s, and when asked): the two rows are complete once both closed.
      const answers = [];
      for (const relay of [two, one]) {
        const r = await tether(['analytics', '--by', 'node', '--step', 'minute', '--json'], { relay: relay.url, token: alice });
        assert.equal(r.code, 0, r.stderr);
        answers.push(JSON.parse(r.stdout));
      }
      rows = answers[1].rows;
      const byNode = (id) => rows.filter((r) => r.key === id).reduce((s, r) => s + r.closed, 0);
      if ((byNode('rc-one') === 1 && byNode('rc-two') === 1) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    for (const id of ['rc-one', 'rc-two']) {
      const mine = rows.filter((r) => r.key === id);
      assert.equal(mine.reduce((s, r) => s + r.opened, 0), 1, `${id}: ${JSON.stringify(rows)}`);
      assert.equal(mine.reduce((s, r) => s + r.bytesUp, 0), SIZE, id);
      assert.equal(mine.reduce((s, r) => s + r.bytesDown, 0), SIZE, id);
    }
    const forecast = await tether(['analytics', 'forecast', '--metric', 'tunnels', '--horizon', '12h', '--scope', 'node', '--node', 'rc-two', '--json'], { relay: one.url, token: ADMIN_TOKEN });
    assert.equal(forecast.code, 0, forecast.stderr);
    const answer = JSON.parse(forecast.stdout);
    assert.deepEqual([answer.scope, answer.node, answer.forecast], ['node', 'rc-two', null]);
    assert.match(answer.notes[0], /history is short/);
  });
});
