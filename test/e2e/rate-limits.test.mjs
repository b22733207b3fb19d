// Rate limits across a cluster: three `tether relay` processes on one real redis-server share
// their buckets, so API calls, failed sign-ins and stream opens are limited cluster-wide
// (docs/rate-limits.md), and the real `tether` CLI and `tether connect` show and honour the
// coded refusals. Nothing here is mocked.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisProcess, freePort as freeRedisPort } from '../../relay/dist/test-support/redis-server.js';
import { createUser, echoServer, freePort, HANG_GUARD, Processes, requirePrograms, startConnect, startRelay, startShare, tempDir, tether } from './fixtures.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-of-the-rate-limits';
const SECRET = 'e2e-cluster-secret-rate-limits-0123';
const HOUR = 3_600_000;

/** Opens a connection to the connect listener and sends a line: resolves true when it echoes, false when it is closed first. */
function echoes(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('ping\n'));
    socket.on('error', () => resolve(false));
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('close', () => resolve(false));
  });
}

describe('rate limits shared by three relays on one Redis', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-rate-limits-');
  const nodes = [];
  let redis;
  let echo;
  let alice;

  before(async () => {
    requirePrograms();
    redis = new RedisProcess(await freeRedisPort(), mkdtempSync(join(tmpdir(), 'tether-redis-')));
    await redis.start();
    procs.defer(() => redis.stop());
    // Tight rules that nothing refills while the test runs (one an hour once the burst is used).
    const rules = join(tmp.path, 'rate-limits.json');
    writeFileSync(rules, JSON.stringify({
      api: { perIdentity: { rate: 1, periodMs: HOUR, burst: 30 } },
      signInFailures: { perAddress: { rate: 1, periodMs: HOUR, burst: 3, lockoutMs: 10 * 60_000 } },
      opens: { perTunnel: { rate: 1, periodMs: HOUR, burst: 5 } },
    }));
    for (const name of ['one', 'two', 'three']) {
      nodes.push(await startRelay(procs, tmp.path, {
        port: await freePort(),
        dataDir: join(tmp.path, name),
        args: ['--redis', redis.url, '--node-id', `e2e-${name}`, '--rate-limits', rules],
        env: { TETHER_CLUSTER_SECRET: SECRET },
        adminToken: ADMIN_TOKEN,
      }));
    }
    alice = await createUser(nodes[0], 'alice');
    echo = await echoServer();
  });

  after(async () => {
    await procs.stopAll();
    echo?.close();
    tmp.dispose();
  });

  test('stream opens to one tunnel through two nodes: the cluster admits the burst (5) in all, then tether connect is told when to retry and stops asking', async () => {
    // Opens are counted per tunnel: the share on node one, connectors on nodes two and three.
    const bob = await createUser(nodes[0], 'bob');
    await startShare(procs, { url: nodes[0].url, token: bob, tunnel: 'echo', targetPort: echo.address().port });
    const viaTwo = await startConnect(procs, { url: nodes[1].url, token: bob, tunnel: 'echo' });
    const viaThree = await startConnect(procs, { url: nodes[2].url, token: bob, tunnel: 'echo' });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await echoes(viaTwo.port), await echoes(viaThree.port));
    assert.equal(results.filter(Boolean).length, 5, `admitted: ${results}`);
    // The refusal, as tether connect prints it, says what and when.
    await viaTwo.proc.waitFor('stderr', /could not reach tunnel echo: too many stream opens to tunnel echo \(retry in \d+(\.\d)? s\) \[TETHER_ERR_RATE_LIMITED\]/);
    // Asked again at once, it does not ask the relay: it says so itself.
    assert.equal(await echoes(viaTwo.port), false);
    await viaTwo.proc.waitFor('stderr', /the relay limits stream opens to tunnel echo; not asking it again yet \(retry in/);
    await procs.stop(viaTwo.proc);
    await procs.stop(viaThree.proc);
  });

  test('API calls by one identity spread over three nodes: exactly the burst (30) pass cluster-wide; the rest get 429 with Retry-After; the CLI prints the coded refusal', async () => {
    const calls = await Promise.all(Array.from({ length: 45 }, (_, i) => fetch(`${nodes[i % 3].url}/v1/tunnels`, { headers: { authorization: `Bearer ${alice}` } })));
    const ok = calls.filter((r) => r.status === 200);
    const refused = calls.filter((r) => r.status === 429);
    assert.equal(ok.length, 30);
    assert.equal(refused.length, 15);
    for (const r of refused) {
      assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
      const body = await r.json();
      assert.equal(body.code, 'TETHER_ERR_RATE_LIMITED');
      assert.match(body.message, /^too many API requests by alice \(retry in \d+(\.\d)? s\)$/);
    }
    const cli = await tether(['tunnels'], { relay: nodes[2].url, token: alice });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /too many API requests by alice \(retry in \d+(\.\d)? s\)/);
    assert.match(cli.stderr, /TETHER_ERR_RATE_LIMITED/);
    assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
    // The admin is not limited.
    assert.equal((await fetch(`${nodes[1].url}/v1/tunnels`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 200);
  });

  test('failed sign-ins on three nodes lock the address out on all of them, a good token included', async () => {
    for (const node of nodes) {
      const r = await fetch(`${node.url}/v1/whoami`, { headers: { authorization: `Bearer not-a-token-${node.url}` } });
      assert.equal(r.status, 401);
    }
    const locked = await fetch(`${nodes[0].url}/v1/whoami`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(locked.status, 429);
    assert.match((await locked.json()).message, /too many failed sign-ins from 127\.0\.0\.1: locked out/);
    assert.ok(Number(locked.headers.get('retry-after')) > 9 * 60, `locked out for ${locked.headers.get('retry-after')} s`);
    // Probes still answer.
    assert.equal((await fetch(`${nodes[2].url}/healthz`)).status, 200);
  });
});
