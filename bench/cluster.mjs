// The cluster benchmark: `npm run bench:cluster` (= tsc -b && node bench/cluster.mjs). One
// redis-server, N `tether relay --redis` nodes, T tunnels spread over them (raw host links in
// this process that echo or hash what they get), connectors opening streams through random
// nodes. Measures cross-node against same-node stream opens, relay RSS, Redis commands per
// tunnel, failover after a node's kill -9, and one-stream throughput. See docs/benchmarks.md.
// Options: --nodes N (20) --tunnels T (10000) --dual F --opens K --mib M --quick --no-write.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dial, echoCheck, openStream, sinkTransfer, startHost } from './cluster-clients.mjs';
import { commandCalls, redisInfo, startRedisServer, startRelays, rssOf } from './cluster-nodes.mjs';
import { writeClusterReport } from './cluster-report.mjs';
import { killAll } from './procs.mjs';
import { median, summary } from './stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'extension/dist/cli/main.js');
const { values: opt } = parseArgs({
  options: {
    nodes: { type: 'string' }, tunnels: { type: 'string' }, dual: { type: 'string' }, opens: { type: 'string' },
    mib: { type: 'string' }, quick: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false },
  },
});
const N = Number(opt.nodes ?? (opt.quick ? 3 : 20));
const T = Number(opt.tunnels ?? (opt.quick ? 300 : 10_000));
const F = Number(opt.dual ?? Math.min(200, Math.floor(T / N / 2)));
const K = Number(opt.opens ?? (opt.quick ? 200 : 1000));
const MIB = Number(opt.mib ?? (opt.quick ? 32 : 256));
const STEADY_S = opt.quick ? 5 : 10;
if (N < 3) throw new Error('--nodes must be 3 or more (failover needs a third node)');

const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const stats = (xs) => ({ ...summary(xs), max: Math.max(...xs), n: xs.length });
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rssStats = (xs) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs), sum: xs.reduce((a, b) => a + b, 0) });
const hostAddress = (i) => `127.0.0.${2 + (Math.floor(i / N) % 200)}`; // ≤ 256 links per address per node
const CONNECTOR_ADDRESS = '127.0.0.250';

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function main() {
  const began = performance.now();
  const loadStart = os.loadavg()[0];
  const tmp = mkdtempSync(join(os.tmpdir(), 'tether-bench-cluster-'));
  const adminToken = randomBytes(32).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const links = [];
  const r = { N, T, F, K, MIB, steadyS: STEADY_S };
  let redis;
  try {
    log(`cluster bench: ${N} nodes, ${T} tunnels (${F} linked to two nodes), ${os.cpus().length} cores, load ${loadStart.toFixed(2)}`);
    redis = await startRedisServer(tmp);
    let t0 = performance.now();
    const nodes = await startRelays({ cli: CLI, redis, count: N, secret, adminToken, dir: tmp, log });
    r.startS = (performance.now() - t0) / 1000;
    await sleep(2000);
    r.rssEmpty = rssStats(rssOf(nodes));
    log(`  relays up in ${r.startS.toFixed(1)} s; RSS with no links ${r.rssEmpty.median.toFixed(1)} MB (median)`);

    // --- hosts: tunnel i on node i % N; the first F tunnels of node 0 also on a second node ---
    const tunnels = Array.from({ length: T }, (_, i) => ({ name: `bt-${i}`, holder: i % N, index: i }));
    const dual = tunnels.filter((t) => t.holder === 0).slice(0, F);
    dual.forEach((t, k) => (t.second = 1 + (k % (N - 1))));
    let lostLinks = 0;
    let killing = false;
    const addHost = async (t, node, i) => {
      const link = await startHost(nodes[node].url, adminToken, t.name, hostAddress(i));
      link.node = node;
      links.push(link);
      void link.closed.then(({ code, reason }) => {
        if (!killing) {
          lostLinks++;
          log(`  host link ${t.name} on node ${node} closed: ${code} ${reason}`);
        }
      });
    };
    t0 = performance.now();
    await pool(tunnels, 64, (t) => addHost(t, t.holder, t.index));
    await pool(dual, 64, (t) => addHost(t, t.second, t.index + T));
    r.registerS = (performance.now() - t0) / 1000;
    log(`  ${links.length} host links in ${r.registerS.toFixed(1)} s`);
    // Leases are taken just after the upgrade: wait until Redis holds one per tunnel.
    const leaseCount = () => Number(redis.cli('EVAL', "return #redis.call('KEYS', '*lease:*')", '0').trim());
    for (let waited = 0; leaseCount() < T; waited += 250) {
      if (waited > 60_000) throw new Error(`only ${leaseCount()} of ${T} tunnel leases in Redis after 60 s`);
      await sleep(250);
    }
    await sleep(3000);
    r.rssIdle = rssStats(rssOf(nodes));
    r.driverRssIdle = process.memoryUsage().rss / 2 ** 20;
    log(`  RSS with ${T / N} host links each: ${r.rssIdle.median.toFixed(1)} MB (median), driver ${r.driverRssIdle.toFixed(0)} MB`);

    // --- Redis at steady state: hosts linked, nothing else happening ---
    const mem = redisInfo(redis, 'memory');
    r.redisUsedMB = Number(mem.used_memory) / 2 ** 20;
    r.redisRssMB = redis.proc.rssMB();
    const before = { total: Number(redisInfo(redis, 'stats').total_commands_processed), calls: commandCalls(redis), cpu: nodes.map((n) => n.proc.cpuSeconds()), rcpu: redis.proc.cpuSeconds() };
    await sleep(STEADY_S * 1000);
    const total = Number(redisInfo(redis, 'stats').total_commands_processed);
    const calls = commandCalls(redis);
    r.redisOps = (total - before.total - 1) / STEADY_S; // minus this INFO
    r.redisOpsPerTunnel = r.redisOps / T;
    r.redisCmds = Object.entries(calls).map(([k, v]) => [k, (v - (before.calls[k] ?? 0)) / STEADY_S]).filter(([k, v]) => v > 0 && k !== 'info').sort((a, b) => b[1] - a[1]);
    // Commands that Lua scripts run are counted too: the round trips are EVALSHA and what is not called from a script.
    const inScripts = new Set(['hset', 'hgetall', 'pexpire', 'hdel', 'zremrangebyscore', 'zrangebyscore', 'time', 'zadd', 'zrem', 'hget']);
    r.redisTripsPerTunnel = r.redisCmds.filter(([k]) => k === 'evalsha' || k === 'eval' || !inScripts.has(k)).reduce((a, [, v]) => a + v, 0) / T;
    r.relayCpuIdle = mean(nodes.map((n, i) => (n.proc.cpuSeconds() - before.cpu[i]) / STEADY_S)) * 100;
    r.redisCpu = ((redis.proc.cpuSeconds() - before.rcpu) / STEADY_S) * 100;
    log(`  Redis: ${r.redisOps.toFixed(0)} commands/s = ${r.redisOpsPerTunnel.toFixed(3)} per tunnel (${r.redisCmds.map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}); Redis CPU ${r.redisCpu.toFixed(1)}%, relay CPU ${r.relayCpuIdle.toFixed(1)}% each`);

    // --- connectors: one session per node ---
    const conns = await Promise.all(nodes.map((n) => dial(n.url, '/v1/connect', adminToken, CONNECTOR_ADDRESS)));
    const singles = tunnels.filter((t) => t.second === undefined);
    const onNode = nodes.map((_, i) => singles.filter((t) => t.holder === i));
    const openAndCheck = async (via, t, bytes = 64) => {
      const { stream, ms } = await openStream(conns[via].session, t.name);
      await echoCheck(stream, randomBytes(bytes), t.name);
      stream.reset();
      return ms;
    };

    // First open over each ordered pair of nodes: the peer link is dialled.
    const pairs = [];
    for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) if (a !== b) pairs.push([a, b]);
    const cold = [];
    await pool(pairs, 1, async ([a, b]) => cold.push(await openAndCheck(a, pick(onNode[b]))));
    r.openCold = stats(cold);
    log(`  first open per node pair (peer link dialled), ${cold.length}: p50 ${r.openCold.p50.toFixed(2)} ms, p95 ${r.openCold.p95.toFixed(2)} ms`);

    // Warm: alternating same-node and cross-node opens, one at a time.
    const same = [];
    const cross = [];
    for (let k = 0; k < 2 * (K + 50); k++) {
      const via = Math.floor(Math.random() * N);
      let t = pick(onNode[via]);
      while (k % 2 === 1 && t.holder === via) t = pick(singles);
      const ms = await openAndCheck(via, t);
      if (k >= 100) (k % 2 === 0 ? same : cross).push(ms);
    }
    r.openSame = stats(same);
    r.openCross = stats(cross);
    log(`  open same-node p50 ${r.openSame.p50.toFixed(3)} p95 ${r.openSame.p95.toFixed(3)}; cross-node p50 ${r.openCross.p50.toFixed(3)} p95 ${r.openCross.p95.toFixed(3)} ms`);

    // Every tunnel at once: one stream each through a random node, echo-checked and held open.
    const held = [];
    const loadSame = [];
    const loadCross = [];
    t0 = performance.now();
    await pool(tunnels, 128, async (t) => {
      const via = Math.floor(Math.random() * N);
      const { stream, ms } = await openStream(conns[via].session, t.name);
      (via === t.holder || via === t.second ? loadSame : loadCross).push(ms);
      await echoCheck(stream, randomBytes(16), t.name);
      held.push(stream);
    });
    r.bulkS = (performance.now() - t0) / 1000;
    r.loadSame = stats(loadSame);
    r.loadCross = stats(loadCross);
    await sleep(2000);
    r.rssStreams = rssStats(rssOf(nodes));
    log(`  ${held.length} streams open (128 at a time, ${(held.length / r.bulkS).toFixed(0)}/s): RSS ${r.rssStreams.median.toFixed(1)} MB median, ${r.rssStreams.max.toFixed(1)} max`);
    for (const s of held) s.reset();
    await sleep(3000);
    r.rssAfter = rssStats(rssOf(nodes));
    log(`  after the opens: RSS ${r.rssAfter.median.toFixed(1)} MB median`);

    // --- throughput of one stream, same node against cross node ---
    const tt = onNode[1][0];
    const runs = { same: [], cross: [] };
    for (let run = 0; run < 2; run++) {
      for (const [kind, via] of [['same', 1], ['cross', 2]]) {
        const { stream } = await openStream(conns[via].session, tt.name);
        const s = await sinkTransfer(stream, MIB * 2 ** 20, tt.name);
        runs[kind].push((MIB * 2 ** 20) / s / 1e6);
        log(`  ${MIB} MiB one-way ${kind}-node: ${((MIB * 2 ** 20) / s / 1e6).toFixed(0)} MB/s`);
      }
    }
    r.tput = runs;
    if (lostLinks > 0) throw new Error(`${lostLinks} host links closed before any node was killed`);

    // --- failover: node 0 killed; its dual tunnels opened through a third node until they work ---
    const third = (t) => [1, 2, 3].map((d) => (t.second + d) % N).find((c) => c !== 0 && c !== t.second);
    await pool(dual, 32, (t) => openAndCheck(third(t), t));
    killing = true;
    const victim = nodes[0];
    const killedAt = performance.now();
    process.kill(-victim.proc.pid, 'SIGKILL');
    victim.dead = true;
    const recover = [];
    let firstTry = 0;
    const errors = new Map();
    const firstRefusal = [];
    const attempts = [];
    await Promise.all(dual.map(async (t) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await openAndCheck(third(t), t, 16);
          recover.push(performance.now() - killedAt);
          attempts.push(attempt + 1);
          if (attempt === 0) firstTry++;
          return;
        } catch (err) {
          const why = err.message.replace(/bt-\d+/g, 'TUNNEL').replace(/bench-\d+/g, 'NODE').replace(/\d+ ms/g, 'N ms').slice(0, 200);
          errors.set(why, (errors.get(why) ?? 0) + 1);
          if (attempt === 0) firstRefusal.push(performance.now() - killedAt);
          if (performance.now() - killedAt > 30_000) throw new Error(`${t.name} unreachable 30 s after its first holder died: ${err.message}`, { cause: err });
          await sleep(50);
        }
      }
    }));
    r.failover = stats(recover);
    r.failoverFirstTry = firstTry;
    r.failoverRefusal = firstRefusal.length ? stats(firstRefusal) : undefined;
    r.failoverAttempts = stats(attempts);
    r.failoverErrors = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 4);
    for (const [why, n] of r.failoverErrors) log(`    failed attempt ×${n}: ${why}`);
    log(`  failover of ${dual.length} tunnels: p50 ${r.failover.p50.toFixed(0)} ms, p95 ${r.failover.p95.toFixed(0)} ms, max ${r.failover.max.toFixed(0)} ms (${firstTry} at the first attempt)`);

    for (const c of conns) c.close();
    r.durationS = (performance.now() - began) / 1000;
    r.loadStart = loadStart;
    r.loadEnd = os.loadavg()[0];
    r.driverRssPeak = process.resourceUsage().maxRSS / 1024;
    r.redisRssEnd = redis.proc.rssMB();
    writeClusterReport(r, { write: !opt['no-write'], root: ROOT, log });
  } finally {
    for (const l of links) l.close();
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const deadline = setTimeout(() => {
  log('bench:cluster: still running after 15 minutes: stopping everything');
  killAll();
  process.exit(1);
}, 15 * 60_000);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
main().then(
  () => process.exit(0),
  (err) => {
    log(`bench:cluster: ${err.stack ?? err}`);
    killAll();
    process.exit(1);
  },
);
