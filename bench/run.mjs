// The Tether benchmark: `npm run bench` (= tsc -b && node bench/run.mjs). See docs/benchmarks.md.
// Every number printed is measured in this run; targets come from the design brief.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';
import { echoClient, tcpDownload, tcpUpload, wsDownload, wsUpload } from './clients.mjs';
import { failoverBench } from './failover.mjs';
import { freePort, killAll, start, startNode, waitForPort } from './procs.mjs';
import { consoleTable, insertSection, machine, markdownSection } from './report.mjs';
import { median, summary } from './stats.mjs';

const { Connector, RelayApi, webSocketFactory } = extension;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'extension/dist/cli/main.js');
const DOC = join(ROOT, 'docs/benchmarks.md');
const PYTHON = '/usr/bin/python3';

const env = process.env;
const config = {
  seconds: Number(env.BENCH_SECONDS ?? 3),
  runs: Number(env.BENCH_RUNS ?? 3),
  pingWarmup: 500,
  pings: 5000,
  openWarmup: 100,
  opens: 1000,
  memorySteps: [1000, 10_000],
  failoverTrials: Number(env.BENCH_FAILOVER_TRIALS ?? 20),
  write: env.BENCH_WRITE !== '0',
  profileDir: env.BENCH_PROFILE ? resolve(env.BENCH_PROFILE) : undefined,
  // The whole run is bounded: past this everything is stopped and the run fails.
  deadlineMs: 9 * 60_000,
};

const MiB = 1024 * 1024;
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const verdict = (ok) => (ok === undefined ? '' : ok ? 'PASS' : 'MISS');

function profileFlags(name) {
  return config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${config.profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
}

// --- the processes ---------------------------------------------------------------------------

async function startTarget() {
  const target = startNode('target', [join(ROOT, 'bench/target.mjs')]);
  const [, port] = await target.waitFor('stdout', /^(\d+)$/);
  return { proc: target, port: Number(port) };
}

/** A relay, a user on it, and a host sharing `tunnel` → the target. */
async function startRelayAndHost(dataDir, tunnel, targetPort) {
  const relay = startNode('relay', [CLI, 'relay', '--port', '0', '--data', dataDir, '--log-level', 'warn'], profileFlags('relay'));
  const [url] = await relay.waitFor('stdout', /^http:\/\/\S+$/);
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const { token } = await new RelayApi(url, adminToken).createUser(`bench-${tunnel}`);
  const host = startNode('host', [CLI, 'share', tunnel, '--target', `127.0.0.1:${targetPort}`, '--relay', url, '--token', token], profileFlags('host'));
  await host.waitFor('stderr', /^Sharing /);
  return { relay, host, url, token };
}

async function startConnector(url, token, tunnel) {
  // `--listen` wants a real port: take one that was free a moment ago.
  const listen = await freePort();
  const connector = startNode('connector', [CLI, 'connect', tunnel, '--listen', `127.0.0.1:${listen}`, '--relay', url, '--token', token], profileFlags('connector'));
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

// --- 1. throughput ---------------------------------------------------------------------------

/** Bytes that take about `seconds` on this path (grows until one transfer takes >= 0.4 s). */
async function calibrate(transfer) {
  let n = 32 * MiB;
  for (;;) {
    const s = await transfer(n);
    if (s >= 0.4 || n >= 4096 * MiB) {
      const bytes = Math.round(((n / s) * config.seconds) / MiB) * MiB;
      return Math.min(Math.max(bytes, 16 * MiB), 8192 * MiB);
    }
    n *= 4;
  }
}

/** Medians of `config.runs` runs per path and direction; CPU per process for paths with `cpuProcs`. */
async function throughput(paths) {
  const results = {};
  for (const direction of ['upload', 'download']) {
    const sizes = {};
    for (const path of paths) {
      sizes[path.name] = await calibrate(path[direction]);
      log(`  ${direction} ${path.name}: ${sizes[path.name] / MiB} MiB per run`);
    }
    const rates = Object.fromEntries(paths.map((p) => [p.name, []]));
    const cpu = Object.fromEntries(paths.map((p) => [p.name, (p.cpuProcs ?? []).map(() => ({ cpu: 0, wall: 0 }))]));
    // Runs interleave the paths so a burst of load elsewhere hits all of them alike.
    for (let run = 0; run < config.runs; run++) {
      for (const path of paths) {
        const procs = path.cpuProcs ?? [];
        const before = procs.map((p) => p.cpu());
        const seconds = await path[direction](sizes[path.name]);
        procs.forEach((p, i) => {
          cpu[path.name][i].cpu += p.cpu() - before[i];
          cpu[path.name][i].wall += seconds;
        });
        rates[path.name].push(sizes[path.name] / seconds / 1e6);
        log(`  ${direction} ${path.name} run ${run + 1}: ${fmt(sizes[path.name] / seconds / 1e6, 1)} MB/s`);
      }
    }
    results[direction] = {
      rates: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)])),
      all: rates,
      cpu: Object.fromEntries(paths.filter((p) => p.cpuProcs).map((p) => [
        p.name,
        p.cpuProcs.map((proc, i) => `${proc.name} ${fmt((cpu[p.name][i].cpu / cpu[p.name][i].wall) * 100, 0)}%`).join(', '),
      ])),
    };
  }
  return results;
}

// --- 2. latency ------------------------------------------------------------------------------

/** RTT percentiles of each path in `ports` ({ name: port }), keyed like `ports`. */
async function latency(ports) {
  const clients = [];
  for (const [name, port] of Object.entries(ports)) clients.push({ name, echo: await echoClient(port), times: [] });
  for (let i = 0; i < config.pingWarmup; i++) {
    for (const c of clients) await c.echo.rtt();
  }
  // Blocks alternate between the paths so background load is shared between them.
  const block = 500;
  for (let done = 0; done < config.pings; done += block) {
    for (const c of clients) {
      for (let i = 0; i < block; i++) c.times.push(await c.echo.rtt());
    }
  }
  for (const c of clients) c.echo.close();
  return Object.fromEntries(clients.map((c) => [c.name, summary(c.times)]));
}

// --- 3. stream open --------------------------------------------------------------------------

async function openLatency(url, token, tunnel) {
  const connector = new Connector(webSocketFactory({ relay: url, token }));
  await connector.session();
  const times = [];
  for (let i = 0; i < config.openWarmup + config.opens; i++) {
    const t0 = performance.now();
    const stream = await connector.open(tunnel);
    const ms = performance.now() - t0;
    if (i >= config.openWarmup) times.push(ms);
    stream.reset();
  }
  connector.close();
  return summary(times);
}

// --- 4. relay memory -------------------------------------------------------------------------

async function relayStreams(url, adminToken) {
  const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } });
  return (await res.json()).streams;
}

async function settledRss(proc) {
  await sleep(2000);
  return proc.rssMB();
}

async function memory(dataDir, targetPort) {
  const tunnel = 'benchmem';
  const { relay, host, url, token } = await startRelayAndHost(dataDir, tunnel, targetPort);
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const connector = new Connector(webSocketFactory({ relay: url, token }));
  const streams = [];
  try {
    await connector.session();
    for (let i = 0; i < 50; i++) (await connector.open(tunnel)).reset();
    const baseline = await settledRss(relay);
    log(`  relay RSS idle: ${fmt(baseline, 1)} MB`);
    const steps = [];
    for (const n of config.memorySteps) {
      while (streams.length < n) {
        const batch = Math.min(250, n - streams.length);
        streams.push(...(await Promise.all(Array.from({ length: batch }, () => connector.open(tunnel)))));
      }
      const rss = await settledRss(relay);
      const onRelay = await relayStreams(url, adminToken);
      steps.push({ n, rss, onRelay, hostRss: host.rssMB() });
      log(`  relay RSS with ${n} idle streams: ${fmt(rss, 1)} MB (relay reports ${onRelay} streams)`);
    }
    return { baseline, steps };
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
  const up = tput.upload.rates;
  const down = tput.download.rates;
  return `What the chain shows: ${share('p50')}; ${share('p95')}. ` +
    `In throughput the tunnel moves ${fmt(up.tunnel / up.chain, 2)}× (client → target) and ${fmt(down.tunnel / down.chain, 2)}× (target → client) what the chain moves ` +
    `(${fmt(up.chain, 0)} and ${fmt(down.chain, 0)} MB/s through the chain against ${fmt(up.direct, 0)} and ${fmt(down.direct, 0)} MB/s direct).`;
}

// --- the run ---------------------------------------------------------------------------------

async function main() {
  const began = performance.now();
  const meta = machine();
  log(`Tether benchmark: ${meta.nproc} cores (${meta.cpu}), Node ${meta.node}, load ${meta.loadStart}`);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npx tsc -b' first (npm run bench does)`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'tether-bench-'));
  const wsVersion = websockifyVersion();
  const rows = [];
  const notes = [];
  let stopMain = async () => undefined;
  try {
    const target = await startTarget();
    const tether = await startRelayAndHost(join(tmp, 'relay'), 'bench', target.port);
    const connector = await startConnector(tether.url, tether.token, 'bench');
    const chain = await startForwardingChain(target.port);
    const websockify = wsVersion ? await startWebsockify(target.port) : undefined;
    stopMain = async () => {
      await websockify?.proc.stop();
      await chain.stop();
      await connector.proc.stop();
      await tether.host.stop();
      await tether.relay.stop();
    };

    log('1. throughput of one stream');
    const driverCpu = { name: 'driver', cpu: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; } };
    const targetCpu = { name: 'target', cpu: () => target.proc.cpuSeconds() };
    const paths = [
      { name: 'direct', upload: (n) => tcpUpload(target.port, n), download: (n) => tcpDownload(target.port, n) },
      {
        name: 'tunnel',
        upload: (n) => tcpUpload(connector.port, n),
        download: (n) => tcpDownload(connector.port, n),
        cpuProcs: [
          driverCpu,
          { name: 'connector', cpu: () => connector.proc.cpuSeconds() },
          { name: 'relay', cpu: () => tether.relay.cpuSeconds() },
          { name: 'host', cpu: () => tether.host.cpuSeconds() },
          targetCpu,
        ],
      },
      {
        name: 'chain',
        upload: (n) => tcpUpload(chain.port, n),
        download: (n) => tcpDownload(chain.port, n),
        cpuProcs: [driverCpu, ...chain.procs.map((p) => ({ name: p.name, cpu: () => p.cpuSeconds() })), targetCpu],
      },
    ];
    if (websockify) paths.push({ name: 'websockify', upload: (n) => wsUpload(websockify.port, n), download: (n) => wsDownload(websockify.port, n) });
    const tput = await throughput(paths);
    for (const [direction, label] of [['upload', 'client → target'], ['download', 'target → client']]) {
      const r = tput[direction].rates;
      rows.push({ metric: `throughput ${label}: direct TCP (MB/s)`, value: fmt(r.direct, 1), target: '', verdict: '' });
      rows.push({ metric: `throughput ${label}: tunnel (MB/s)`, value: fmt(r.tunnel, 1), target: '', verdict: '' });
      rows.push({ metric: `throughput ${label}: TCP forwarding chain (MB/s)`, value: fmt(r.chain, 1), target: '', verdict: '' });
      rows.push({ metric: `throughput ${label}: websockify (MB/s)`, value: fmt(r.websockify, 1), target: '', verdict: '' });
      const vsDirect = r.tunnel / r.direct;
      rows.push({ metric: `throughput ${label}: tunnel / direct`, value: fmt(vsDirect, 2), target: '>= 0.30', verdict: verdict(vsDirect >= 0.3) });
      const vsWs = r.websockify === undefined ? NaN : r.tunnel / r.websockify;
      rows.push({ metric: `throughput ${label}: tunnel / websockify`, value: fmt(vsWs, 2), target: '>= 2.00', verdict: Number.isFinite(vsWs) ? verdict(vsWs >= 2) : 'n/a' });
      // Informational: the chain is a floor for five processes on this machine, not a design target.
      rows.push({ metric: `throughput ${label}: tunnel / forwarding chain`, value: fmt(r.tunnel / r.chain, 2), target: '', verdict: '' });
      notes.push(`Throughput ${label}, MB/s of each run (median reported): ${Object.entries(tput[direction].all).map(([k, v]) => `${k} ${v.map((x) => fmt(x, 0)).join('/')}`).join('; ')}. ` +
        `CPU per process (100% = one core) during the tunnel runs: ${tput[direction].cpu.tunnel}; during the forwarding-chain runs: ${tput[direction].cpu.chain}.`);
    }
    notes.push('Forwarding chain: driver → fwd1 → fwd2 → fwd3 → target, three `bench/forwarder.mjs` processes (node:net, Nagle off, `pipe()` both ways, half-close kept): the same five processes as the tunnel with none of its WebSocket framing, multiplexing or flow control, the floor for a five-process path on this machine.');
    notes.push(wsVersion ? `websockify ${wsVersion.replace(' ', ', ')} (\`${PYTHON} -m websockify\`), driven by a Node \`ws\` client (default settings: random masks as RFC 6455 asks of clients, no compression) sending 64 KiB binary messages with backpressure.` : 'websockify not found: its rows read n/a.');

    log('2. added round-trip latency (64 B ping-pong)');
    const lat = await latency({ direct: target.port, tunnel: connector.port, chain: chain.port });
    for (const p of ['p50', 'p95', 'p99']) rows.push({ metric: `RTT direct TCP ${p} (ms)`, value: fmt(lat.direct[p], 3), target: '', verdict: '' });
    for (const p of ['p50', 'p95', 'p99']) rows.push({ metric: `RTT tunnel ${p} (ms)`, value: fmt(lat.tunnel[p], 3), target: '', verdict: '' });
    for (const p of ['p50', 'p95', 'p99']) rows.push({ metric: `RTT forwarding chain ${p} (ms)`, value: fmt(lat.chain[p], 3), target: '', verdict: '' });
    const limits = { p50: 0.15, p95: 1, p99: undefined };
    const added = {};
    const chainAdded = {};
    for (const p of ['p50', 'p95', 'p99']) {
      added[p] = lat.tunnel[p] - lat.direct[p];
      chainAdded[p] = lat.chain[p] - lat.direct[p];
      const limit = limits[p];
      rows.push({ metric: `added RTT ${p} (ms)`, value: fmt(added[p], 3), target: limit === undefined ? '' : `< ${limit}`, verdict: limit === undefined ? '' : verdict(added[p] < limit) });
    }
    for (const p of ['p50', 'p95']) rows.push({ metric: `added RTT of a 3-forwarder TCP chain ${p} (ms)`, value: fmt(chainAdded[p], 3), target: '', verdict: '' });
    notes.push(`Latency: ${config.pings} round trips of 64 bytes per path after ${config.pingWarmup} warm-up ones, in alternating blocks of 500; added = path percentile − direct percentile.`);
    notes.push(chainNote(added, chainAdded, tput));

    log('3. stream open on a warm connection');
    const open = await openLatency(tether.url, tether.token, 'bench');
    for (const p of ['p50', 'p95', 'p99']) {
      rows.push({ metric: `stream open ${p} (ms)`, value: fmt(open[p], 3), target: p === 'p95' ? '< 2' : '', verdict: p === 'p95' ? verdict(open.p95 < 2) : '' });
    }
    notes.push(`Stream open: ${config.opens} sequential \`Connector.open()\` calls (after ${config.openWarmup} warm-up ones) from the driver, timed until the host accepted the stream (it connected to the target first).`);

    await stopMain();
    stopMain = async () => undefined;

    log('4. relay memory with idle streams');
    const mem = await memory(join(tmp, 'relay-memory'), target.port);
    rows.push({ metric: 'relay RSS idle (MB)', value: fmt(mem.baseline, 1), target: '', verdict: '' });
    for (const step of mem.steps) {
      const per100 = ((step.rss - mem.baseline) / step.n) * 100;
      rows.push({ metric: `relay RSS with ${step.n} idle streams (MB)`, value: fmt(step.rss, 1), target: '', verdict: '' });
      rows.push({ metric: `relay MB per 100 idle streams (at ${step.n})`, value: fmt(per100, 2), target: '< 5', verdict: verdict(per100 < 5) });
    }
    const last = mem.steps.at(-1);
    rows.push({ metric: 'concurrent streams on one relay', value: String(last.onRelay), target: '>= 10000', verdict: verdict(last.onRelay >= 10_000) });
    notes.push(`Memory: a fresh relay and host; idle streams opened by the driver over one connection; VmRSS read 2 s after each step. Host RSS at ${mem.steps.map((s) => `${s.n}: ${fmt(s.hostRss, 0)} MB`).join(', ')} (the host holds one TCP connection to the target per stream).`);

    log('5. failover: relay killed under a live stream; first byte with a warm pool and a cold connection');
    const fo = await failoverBench({ cli: CLI, targetPort: target.port, dir: tmp, trials: config.failoverTrials, log });
    for (const p of ['p50', 'p95', 'p99']) {
      rows.push({ metric: `failover: relay death → bytes flowing ${p} (ms)`, value: fmt(fo.failover[p], 0), target: p === 'p95' ? '< 2000' : '', verdict: p === 'p95' ? verdict(fo.failover.p95 < 2000) : '' });
    }
    if (fo.blackhole.n > 0) {
      for (const p of ['p50', 'p95']) rows.push({ metric: `failover: relay frozen (SIGSTOP) → bytes flowing ${p} (ms)`, value: fmt(fo.blackhole[p], 0), target: '', verdict: '' });
    }
    rows.push({ metric: `failover trials with a byte lost, repeated or out of order (of ${fo.trials})`, value: String(fo.lost), target: '= 0', verdict: verdict(fo.lost === 0) });
    for (const kind of ['warm', 'cold']) {
      for (const p of ['p50', 'p95']) rows.push({ metric: `first byte of a new stream, ${kind === 'warm' ? 'warm pool' : 'cold connection'} ${p} (ms)`, value: fmt(fo.firstByte[kind][p], 2), target: '', verdict: '' });
    }
    notes.push(`Failover: two relays over one SQLite store, \`tether share\` registered with both, the driver's Connector with both as endpoints (default settings: detection 3 s, pool of 2). Each of ${fo.trials - fo.blackhole.n} trials (fresh relays, host and connector each time) streams one 32-byte block per millisecond through the echo target, SIGKILLs the relay carrying the stream and times until the first block written after the kill is echoed back (max ${fmt(fo.failover.max, 0)} ms); every echoed byte is checked against what was sent. ${fo.blackhole.n} more trials freeze the relay (SIGSTOP) instead: a black hole found only by missed pings (detection 3 s by default), informational. First byte: \`open()\` then 2 bytes echoed, ${fo.firstByte.warmN} times on the warm connector and ${fo.firstByte.coldN} times on a new Connector each (its pool connects first).`);
    await target.proc.stop();
  } finally {
    await stopMain();
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }

  meta.loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  meta.durationS = Math.round((performance.now() - began) / 1000);
  // The load before the run started is other processes' (the run's own adds about 1-2).
  const busy = Number(meta.loadStart.split(' ')[0]);
  if (busy > Number(meta.nproc) / 2) {
    notes.unshift(`**The machine was busy** (1-minute load average ${busy.toFixed(1)} on ${meta.nproc} cores before the run started): throughput and tail latencies are understated; rerun on an idle machine.`);
  }
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
  process.exit(1);
}, config.deadlineMs);
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
    log(`bench: ${err.stack ?? err}`);
    killAll();
    process.exit(1);
  },
);
