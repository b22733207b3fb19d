// The Tether benchmark: `npm run bench` (= tsc -b && node bench/run.mjs). See docs/benchmarks.md.
// Every number printed is measured in this run; targets come from the design brief.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';
import { echoClient } from './clients.mjs';
import { cpuMeter } from './cpu.mjs';
import { concurrentConfig, measureConcurrent } from './concurrent.mjs';
import { failoverBench } from './failover.mjs';
import { CLI_NODE_FLAGS } from '../extension/dist/core/cli-node-flags.js';
import { freePort, killAll, start, startNode, startRelayNode, startShareNode, waitForPort } from './procs.mjs';
import { consoleTable, insertSection, machine, markdownSection } from './report.mjs';
import { atMost, below, fmt, row, verdict } from './rows.mjs';
import { summary } from './stats.mjs';
import { measureThroughput } from './throughput.mjs';
import { measureSsh } from './ssh.mjs';
import { measureNormalLoad } from './normal-load.mjs';
import { killPeers } from './ssh-peers.mjs';

const { Connector, RelayApi, webSocketFactory } = extension;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'extension/dist/cli/main.js');
const DOC = join(ROOT, 'docs/benchmarks.md');
const PYTHON = '/usr/bin/python3';

const env = process.env;
const config = {
  seconds: Number(env.BENCH_SECONDS ?? 3),
  runs: Number(env.BENCH_RUNS ?? 3),
  // MiB each throughput path moves each way before it is calibrated and measured (0: none).
  warmupMiB: Number(env.BENCH_WARMUP_MIB ?? 512),
  // Round trips per path before the latency section measures: enough for V8 to have optimized
  // the small-message path of every process (with 500, each tunnel process still spent ~135 µs
  // of CPU per round trip while measured; warm, ~85).
  pingWarmup: Number(env.BENCH_PING_WARMUP ?? 5000),
  pings: 5000,
  // Opens before the measured ones, for the same reason: the open path runs a few times per open
  // in each process, so V8 optimizes it only after thousands (over 5,000 sequential opens on fresh
  // processes: CPU per open relay 740 -> 340 µs, host 740 -> 300, p50 1.7 -> 0.6 ms). The first
  // 1,000 of them are reported too.
  openWarmup: Number(env.BENCH_OPEN_WARMUP ?? 5000),
  opens: 1000,
  memorySteps: [1000, 10_000],
  failoverTrials: Number(env.BENCH_FAILOVER_TRIALS ?? 20),
  concurrent: concurrentConfig(env),
  // A comma list of section names (see SECTIONS below); all of them by default.
  sections: env.BENCH_SECTIONS ? env.BENCH_SECTIONS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
  write: env.BENCH_WRITE !== '0',
  profileDir: env.BENCH_PROFILE ? resolve(env.BENCH_PROFILE) : undefined,
  // The whole run is bounded: past this everything is stopped and the run fails (every section
  // takes about 3 minutes on an idle machine; a busy one can take three times that).
  deadlineMs: 25 * 60_000,
};

// Every relay this run starts (failover's too: children inherit the environment) runs without
// the default rate limits, which would refuse the thousands of opens of the stream-open and
// memory sections (per user: burst 100, 600 a minute); the adaptive open limit stays on.
env.TETHER_RATE_LIMITS ||= 'off';

const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Node flags for relay, host and connector: BENCH_NODE_FLAGS, then --cpu-prof with BENCH_PROFILE. */
function nodeFlags(name) {
  const extra = env.BENCH_NODE_FLAGS ? env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : [];
  return [...extra, ...(config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${config.profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [])];
}

// --- the processes ---------------------------------------------------------------------------

async function startTarget() {
  const target = startNode('target', [join(ROOT, 'bench/target.mjs')]);
  const [, port] = await target.waitFor('stdout', /^(\d+)$/);
  return { proc: target, port: Number(port) };
}

/** A relay, a user on it, and a host sharing `tunnel` → the target. */
async function startRelayAndHost(dataDir, tunnel, targetPort) {
  const relay = startRelayNode('relay', [CLI, 'relay', '--port', '0', '--data', dataDir, '--log-level', 'warn'], nodeFlags('relay'));
  const [url] = await relay.waitFor('stdout', /^http:\/\/\S+$/);
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const { token } = await new RelayApi(url, adminToken).createUser(`bench-${tunnel}`);
  const host = startShareNode('host', [CLI, 'share', tunnel, '--target', `127.0.0.1:${targetPort}`, '--relay', url, '--token', token], nodeFlags('host'));
  await host.waitFor('stderr', /^Sharing /);
  return { relay, host, url, token };
}

async function startConnector(url, token, tunnel) {
  // `--listen` wants a real port: take one that was free a moment ago.
  const listen = await freePort();
  const connector = startNode('connector', [CLI, 'connect', tunnel, '--listen', `127.0.0.1:${listen}`, '--relay', url, '--token', token], nodeFlags('connector'));
  const [, port] = await connector.waitFor('stderr', /^Listening on 127\.0\.0\.1:(\d+)/);
  return { proc: connector, port: Number(port) };
}

/** Three plain TCP forwarders, each its own process: driver → fwd1 → fwd2 → fwd3 → target. */
async function startForwardingChain(targetPort) {
  const procs = [];
  let upstream = targetPort;
  for (const name of ['fwd3', 'fwd2', 'fwd1']) {
    const proc = startNode(name, [join(ROOT, 'bench/forwarder.mjs'), String(upstream)]);
    procs.unshift(proc);
    const [, port] = await proc.waitFor('stdout', /^(\d+)$/);
    upstream = Number(port);
  }
  return {
    procs,
    port: upstream,
    async stop() {
      for (const proc of procs) await proc.stop();
    },
  };
}

function websockifyVersion() {
  try {
    return execFileSync(PYTHON, ['-c', 'import websockify, importlib.metadata as m, importlib.util as u; print(m.version("websockify"), "numpy" if u.find_spec("numpy") else "no-numpy")'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function startWebsockify(targetPort) {
  const port = await freePort();
  const proc = start('websockify', PYTHON, ['-m', 'websockify', `127.0.0.1:${port}`, `127.0.0.1:${targetPort}`]);
  await waitForPort(port);
  return { proc, port };
}

// --- latency --------------------------------------------------------------------------------

/**
 * RTT percentiles of each path in `ports` ({ name: port }) as `rtt`, keyed like `ports`, and the
 * CPU each of the path's processes (`procs`: { name: [Child] }) spent per round trip, in µs, as
 * `cpuPerRt` ({ name: { process name: µs } }), metered over exactly its measured blocks.
 */
async function latency(ports, procs = {}) {
  const clients = [];
  for (const [name, port] of Object.entries(ports)) clients.push({ name, echo: await echoClient(port), times: [], meter: cpuMeter(procs[name] ?? []) });
  for (let i = 0; i < config.pingWarmup; i++) {
    for (const c of clients) await c.echo.rtt();
  }
  // Blocks alternate between the paths so background load is shared between them.
  const block = 500;
  for (let done = 0; done < config.pings; done += block) {
    for (const c of clients) {
      c.meter.begin();
      for (let i = 0; i < block; i++) c.times.push(await c.echo.rtt());
      c.meter.end(0, 0);
    }
  }
  for (const c of clients) c.echo.close();
  return {
    rtt: Object.fromEntries(clients.map((c) => [c.name, summary(c.times)])),
    cpuPerRt: Object.fromEntries(clients.map((c) => [c.name, Object.fromEntries(c.meter.result().map((r) => [r.name, (r.seconds / c.times.length) * 1e6]))])),
  };
}

// --- stream open ----------------------------------------------------------------------------

async function openLatency(url, token, tunnel) {
  const connector = new Connector(webSocketFactory({ relay: url, token }));
  await connector.session();
  const first = [];
  const times = [];
  for (let i = 0; i < config.openWarmup + config.opens; i++) {
    const t0 = performance.now();
    const stream = await connector.open(tunnel);
    const ms = performance.now() - t0;
    if (i >= config.openWarmup) times.push(ms);
    else if (i < config.opens) first.push(ms);
    stream.reset();
  }
  connector.close();
  return { ...summary(times), first: first.length > 0 ? summary(first) : undefined };
}

// --- relay memory ---------------------------------------------------------------------------

async function relayStreams(url, adminToken) {
  const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } });
  return (await res.json()).streams;
}

async function settledRss(proc) {
  await sleep(2000);
  return proc.rssMB();
}

/**
 * `connector.open(tunnel)`, again after the hinted pause when the relay sheds it (its adaptive
 * open limit does on a busy machine); `shed.n` counts the refusals.
 */
async function openRetrying(connector, tunnel, shed) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connector.open(tunnel);
    } catch (err) {
      if (err.retryAfterMs === undefined || attempt >= 20) throw err;
      shed.n++;
      await sleep(err.retryAfterMs);
    }
  }
}

async function memory(dataDir, targetPort) {
  const tunnel = 'benchmem';
  const { relay, host, url, token } = await startRelayAndHost(dataDir, tunnel, targetPort);
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const connector = new Connector(webSocketFactory({ relay: url, token }));
  const streams = [];
  const shed = { n: 0 };
  try {
    await connector.session();
    for (let i = 0; i < 50; i++) (await connector.open(tunnel)).reset();
    const baseline = await settledRss(relay);
    log(`  relay RSS idle: ${fmt(baseline, 1)} MB`);
    const steps = [];
    for (const n of config.memorySteps) {
      while (streams.length < n) {
        const batch = Math.min(250, n - streams.length);
        streams.push(...(await Promise.all(Array.from({ length: batch }, () => openRetrying(connector, tunnel, shed)))));
      }
      const rss = await settledRss(relay);
      const onRelay = await relayStreams(url, adminToken);
      steps.push({ n, rss, onRelay, hostRss: host.rssMB() });
      log(`  relay RSS with ${n} idle streams: ${fmt(rss, 1)} MB (relay reports ${onRelay} streams)`);
    }
    return { baseline, steps, shed: shed.n };
  } finally {
    connector.close();
    await host.stop();
    await relay.stop();
  }
}

// --- what the forwarding chain shows -----------------------------------------------------------

/** One line comparing the tunnel with three plain forwarders, from this run's numbers. */
function chainNote(added, chainAdded, tput) {
  const share = (p) => {
    const ownMs = added[p] - chainAdded[p];
    const pct = (chainAdded[p] / added[p]) * 100;
    return ownMs >= 0
      ? `the tunnel's added ${p} is ${fmt(added[p], 3)} ms, of which ${fmt(chainAdded[p], 3)} ms (${fmt(pct, 0)}%) is what three plain Node TCP forwarders add on this machine, leaving ${fmt(ownMs, 3)} ms for the tunnel's own work`
      : `the tunnel's added ${p} is ${fmt(added[p], 3)} ms, ${fmt(-ownMs, 3)} ms less than the ${fmt(chainAdded[p], 3)} ms three plain Node TCP forwarders add on this machine`;
  };
  const lat = `What the chain shows: ${share('p50')}; ${share('p95')}.`;
  if (!tput) return lat;
  const up = tput.upload.rates;
  const down = tput.download.rates;
  return `${lat} ` +
    `In throughput the tunnel moves ${fmt(up.tunnel / up.chain, 2)}× (client → target) and ${fmt(down.tunnel / down.chain, 2)}× (target → client) what the chain moves ` +
    `(${fmt(up.chain, 0)} and ${fmt(down.chain, 0)} MB/s through the chain against ${fmt(up.direct, 0)} and ${fmt(down.direct, 0)} MB/s direct).`;
}

// --- the sections ---------------------------------------------------------------------------

async function measureLatency(ctx) {
  const { target, connector, chain } = ctx;
  const { rtt: lat, cpuPerRt: cpu } = await latency({ direct: target.port, tunnel: connector.port, chain: chain.port }, { tunnel: [connector.proc, ctx.tether.relay, ctx.tether.host], chain: chain.procs });
  const rows = [];
  for (const path of ['direct', 'tunnel', 'chain']) {
    const label = { direct: 'direct TCP', tunnel: 'tunnel', chain: 'forwarding chain' }[path];
    for (const p of ['p50', 'p95', 'p99']) rows.push(row(`RTT ${label} ${p} (ms)`, lat[path][p], 3));
  }
  const added = {};
  const chainAdded = {};
  for (const p of ['p50', 'p95', 'p99']) {
    added[p] = lat.tunnel[p] - lat.direct[p];
    chainAdded[p] = lat.chain[p] - lat.direct[p];
    rows.push(row(`added RTT ${p} (ms)`, added[p], 3, p === 'p95' ? below(1) : undefined));
  }
  for (const p of ['p50', 'p95']) rows.push(row(`added RTT of a 3-forwarder TCP chain ${p} (ms)`, chainAdded[p], 3));
  rows.push(row('added RTT p50, tunnel − chain (ms)', lat.tunnel.p50 - lat.chain.p50, 3, atMost(0.05)));
  // Where a round trip's time goes: CPU of the three processes in the middle of each path. On a
  // small machine a hop's latency is mostly its CPU work and its wake-ups.
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  rows.push(row('CPU per round trip: connector, relay and host (µs)', sum(cpu.tunnel), 1));
  rows.push(row("CPU per round trip: the chain's three forwarders (µs)", sum(cpu.chain), 1));
  rows.push(row('CPU per round trip: relay (µs)', cpu.tunnel.relay, 1));
  rows.push(row("CPU per round trip: the chain's middle forwarder, fwd2 (µs)", cpu.chain.fwd2, 1));
  const each = (o) => Object.entries(o).map(([name, us]) => `${name} ${fmt(us, 1)}`).join(', ');
  const notes = [
    `CPU per round trip (user + system, from /proc over the measured blocks of each path, which counts in 10 ms ticks: ${fmt(10_000 / config.pings, 1)} µs per tick here): tunnel ${each(cpu.tunnel)}; chain ${each(cpu.chain)} µs.`,
    `Latency: ${config.pings} round trips of 64 bytes per path after ${config.pingWarmup} warm-up ones, in alternating blocks of 500; added = path percentile − direct percentile; "tunnel − chain" = the tunnel's p50 − the chain's p50 (within 0.05 ms is the target).`,
    chainNote(added, chainAdded, ctx.results.throughput?.tput),
  ];
  return { rows, notes };
}

async function measureOpen(ctx) {
  const open = await openLatency(ctx.tether.url, ctx.tether.token, ctx.tunnel);
  const rows = ['p50', 'p95', 'p99'].map((p) => row(`stream open ${p} (ms)`, open[p], 3, p === 'p95' ? below(2) : undefined));
  if (open.first) rows.push(...['p50', 'p95', 'p99'].map((p) => row(`stream open, the first ${Math.min(config.opens, config.openWarmup)} opens (fresh JIT), ${p} (ms)`, open.first[p], 3)));
  const notes = [
    `Stream open: ${config.opens} sequential \`Connector.open()\` calls (after ${config.openWarmup} warm-up ones) from the driver, timed until the host accepted the stream (it connected to the target first). The first ${Math.min(config.opens, config.openWarmup)} warm-up opens are reported apart: processes whose open path V8 has not optimized yet (BENCH_OPEN_WARMUP sets the warm-up).`,
  ];
  return { rows, notes };
}

async function measureMemory(ctx) {
  const mem = await memory(join(ctx.tmp, 'relay-memory'), ctx.target.port);
  const rows = [row('relay RSS idle (MB)', mem.baseline, 1)];
  for (const step of mem.steps) {
    const per100 = ((step.rss - mem.baseline) / step.n) * 100;
    rows.push(row(`relay RSS with ${step.n} idle streams (MB)`, step.rss, 1));
    rows.push(row(`relay MB per 100 idle streams (at ${step.n})`, per100, 2, below(5)));
  }
  const last = mem.steps.at(-1);
  rows.push({ metric: 'concurrent streams on one relay', value: String(last.onRelay), target: '>= 10000', verdict: verdict(last.onRelay >= 10_000) });
  const notes = [`Memory: a fresh relay and host; idle streams opened by the driver over one connection; VmRSS read 2 s after each step. Host RSS at ${mem.steps.map((s) => `${s.n}: ${fmt(s.hostRss, 0)} MB`).join(', ')} (the host holds one TCP connection to the target per stream).${mem.shed > 0 ? ` The relay's adaptive open limit shed ${mem.shed} of the opens (retried after the pause it asked for).` : ''}`];
  return { rows, notes };
}

async function measureFailover(ctx) {
  const fo = await failoverBench({ cli: CLI, targetPort: ctx.target.port, dir: ctx.tmp, trials: config.failoverTrials, log });
  const rows = [];
  for (const p of ['p50', 'p95', 'p99']) rows.push(row(`failover: relay death → bytes flowing ${p} (ms)`, fo.failover[p], 0, p === 'p95' ? below(2000) : undefined));
  if (fo.blackhole.n > 0) {
    for (const p of ['p50', 'p95']) rows.push(row(`failover: relay frozen (SIGSTOP) → bytes flowing ${p} (ms)`, fo.blackhole[p], 0));
  }
  rows.push({ metric: `failover trials with a byte lost, repeated or out of order (of ${fo.trials})`, value: String(fo.lost), target: '= 0', verdict: verdict(fo.lost === 0) });
  for (const kind of ['warm', 'cold']) {
    for (const p of ['p50', 'p95']) rows.push(row(`first byte of a new stream, ${kind === 'warm' ? 'warm pool' : 'cold connection'} ${p} (ms)`, fo.firstByte[kind][p], 2));
  }
  const notes = [`Failover: two relays over one SQLite store, \`tether share\` registered with both, the driver's Connector with both as endpoints (default settings: detection 3 s, pool of 2). Each of ${fo.trials - fo.blackhole.n} trials (fresh relays, host and connector each time) streams one 32-byte block per millisecond through the echo target, SIGKILLs the relay carrying the stream and times until the first block written after the kill is echoed back (max ${fmt(fo.failover.max, 0)} ms); every echoed byte is checked against what was sent. ${fo.blackhole.n} more trials freeze the relay (SIGSTOP) instead: a black hole found only by missed pings (detection 3 s by default), informational. First byte: \`open()\` then 2 bytes echoed, ${fo.firstByte.warmN} times on the warm connector and ${fo.firstByte.coldN} times on a new Connector each (its pool connects first).`];
  return { rows, notes };
}

/**
 * The sections, in the order they run and print; BENCH_SECTIONS=name,name picks some. A section
 * is `run(ctx)` resolving with { rows, notes } (and anything later sections may read from
 * `ctx.results[name]`). With `paths: true` it runs while the shared paths are up and idle:
 * `ctx.tether` ({ relay, host, url, token }, sharing `ctx.tunnel` → the target), `ctx.connector`
 * ({ proc, port }: `tether connect --listen`), `ctx.chain` ({ procs, port }) and `ctx.websockify`
 * ({ proc, port } or undefined). Without it those are stopped first, so the section has the
 * machine to itself and starts what it needs: `ctx.startRelayAndHost(dataDir, tunnel, port)`,
 * `ctx.startConnector(url, token, tunnel)`. Every section has `ctx.target` ({ proc, port }),
 * `ctx.config`, `ctx.log`, `ctx.cli`, `ctx.root` and `ctx.tmp` (a scratch directory). A new
 * module adds one entry here: { name: 'x', title: '…', paths: true, run: (ctx) => measureX(ctx) }.
 */
const SECTIONS = [
  { name: 'throughput', title: 'throughput of one stream', paths: true, run: measureThroughput },
  { name: 'concurrent', title: `${config.concurrent.streams} concurrent streams through one connector`, paths: true, run: measureConcurrent },
  { name: 'latency', title: 'added round-trip latency (64 B ping-pong)', paths: true, run: measureLatency },
  { name: 'open', title: 'stream open on a warm connection', paths: true, run: measureOpen },
  { name: 'memory', title: 'relay memory with idle streams', paths: false, run: measureMemory },
  { name: 'failover', title: 'failover: relay killed under a live stream; first byte with a warm pool and a cold connection', paths: false, run: measureFailover },
  {
    name: 'ssh',
    title: 'real ssh: direct, OpenSSH bastion (ssh -J), tether proxy, tether connect --listen',
    paths: false,
    run: (ctx) => measureSsh({ cli: ctx.cli, tmp: ctx.tmp, rounds: Number(env.BENCH_SSH_ROUNDS ?? 3), mib: Number(env.BENCH_SSH_MIB ?? 256), warmupMib: Number(env.BENCH_SSH_WARMUP_MIB ?? 256) }),
  },
  {
    name: 'load',
    title: 'relay CPU under normal load: 1,000 idle tunnels, 100 interactive ssh sessions, 10 MB/s bulk',
    paths: false,
    run: (ctx) => measureNormalLoad({ cli: ctx.cli, tmp: ctx.tmp, seconds: Number(env.BENCH_LOAD_SECONDS ?? 60) }),
  },
];

/** Starts the paths the `paths: true` sections share; resolves with them and their stop(). */
async function startPaths(tmp, target) {
  const tunnel = 'bench';
  const tether = await startRelayAndHost(join(tmp, 'relay'), tunnel, target.port);
  const connector = await startConnector(tether.url, tether.token, tunnel);
  const chain = await startForwardingChain(target.port);
  const wsVersion = websockifyVersion();
  const websockify = wsVersion ? await startWebsockify(target.port) : undefined;
  return {
    tunnel,
    tether,
    connector,
    chain,
    websockify,
    wsVersion,
    async stop() {
      await websockify?.proc.stop();
      await chain.stop();
      await connector.proc.stop();
      await tether.host.stop();
      await tether.relay.stop();
    },
  };
}

// --- the run ---------------------------------------------------------------------------------

async function main() {
  const began = performance.now();
  const meta = machine();
  log(`Tether benchmark: ${meta.nproc} cores (${meta.cpu}), Node ${meta.node}, load ${meta.loadStart}`);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npx tsc -b' first (npm run bench does)`);
  const unknown = (config.sections ?? []).filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`BENCH_SECTIONS: no section ${unknown.join(', ')} (there are ${SECTIONS.map((s) => s.name).join(', ')})`);
  const chosen = SECTIONS.filter((s) => !config.sections || config.sections.includes(s.name));
  const tmp = mkdtempSync(join(os.tmpdir(), 'tether-bench-'));
  const rows = [];
  const notes = [];
  let paths;
  try {
    const target = await startTarget();
    const ctx = { config, log, cli: CLI, root: ROOT, tmp, python: PYTHON, target, results: {}, startRelayAndHost, startConnector };
    for (const [i, section] of chosen.entries()) {
      if (section.paths && !paths) {
        paths = await startPaths(tmp, target);
        Object.assign(ctx, paths);
      }
      if (!section.paths && paths) {
        await paths.stop();
        paths = undefined;
      }
      log(`${i + 1}. ${section.title}`);
      const result = await section.run(ctx);
      ctx.results[section.name] = result;
      rows.push(...result.rows);
      notes.push(...result.notes);
    }
    if (paths) await paths.stop();
    paths = undefined;
    await target.proc.stop();
  } finally {
    await paths?.stop();
    killAll();
    killPeers();
    rmSync(tmp, { recursive: true, force: true });
  }

  meta.loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  meta.durationS = Math.round((performance.now() - began) / 1000);
  // The load before the run started is other processes' (the run's own adds about 1-2).
  const busy = Number(meta.loadStart.split(' ')[0]);
  if (busy > Number(meta.nproc) / 2) {
    notes.unshift(`**The machine was busy** (1-minute load average ${busy.toFixed(1)} on ${meta.nproc} cores before the run started): throughput and tail latencies are understated; rerun on an idle machine.`);
  }
  notes.push(env.BENCH_SHARE_FLAGS === '0' ? '`tether share` ran without Node flags (BENCH_SHARE_FLAGS=0).' : `\`tether share\` ran with the Node flags of \`tether service install\`'s unit (${CLI_NODE_FLAGS.join(' ')}); \`tether connect\` as typed at a shell, which keeps an equivalent heap floor itself (extension/src/cli/heap-floor.ts).`);
  notes.push(`Relays ran with rate limits ${env.TETHER_RATE_LIMITS === 'off' ? 'off (`TETHER_RATE_LIMITS=off`: the defaults refuse more than 100 opens at once per user; the adaptive open limit stays on)' : `from \`TETHER_RATE_LIMITS=${env.TETHER_RATE_LIMITS}\``}.`);
  if (config.sections) notes.unshift(`Sections run: ${chosen.map((s) => s.name).join(', ')} (BENCH_SECTIONS); the others were left out.`);
  process.stdout.write(`\n${consoleTable(rows)}\n\n`);
  for (const note of notes) process.stdout.write(`- ${note}\n`);
  const misses = rows.filter((r) => r.verdict === 'MISS').length;
  process.stdout.write(`\n${rows.filter((r) => r.verdict === 'PASS').length} targets met, ${misses} missed; run took ${meta.durationS} s; load average ${meta.loadStart} → ${meta.loadEnd}\n`);
  if (config.write) {
    insertSection(DOC, markdownSection(meta, rows, notes));
    process.stdout.write(`Results written to ${DOC}\n`);
  }
}

const deadline = setTimeout(() => {
  log(`bench: still running after ${config.deadlineMs / 1000} s: stopping everything`);
  killAll();
  killPeers();
  process.exit(1);
}, config.deadlineMs);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    killPeers();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`bench: ${err.stack ?? err}`);
    killAll();
    killPeers();
    process.exit(1);
  },
);
