// `npm run bench:overload` (= tsc -b && node bench/overload.mjs): what an open storm does to the
// streams already open, with the relay's protections as shipped and with the rate limits off
// (the adaptive open limit alone), and how fast the adaptive limit settles when capacity halves.
// See docs/benchmarks.md ("Open storms"). Every number is measured in this run.
//
// Per configuration: a relay (its own process, --metrics-port), a target sink, `tether share`
// and `tether connect` for alice's tunnel `bulk`; one stream through it, opened first, writing
// without pause; its rate over BENCH_RUNS windows unloaded, then as many while
// bench/overload-storm.mjs (its own process) keeps SESSIONS × CONCURRENCY opens to mallory's
// tunnel `storm` under way on the same relay.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';
import relay from '@tether/relay';
import { connectTcp } from './clients.mjs';
import { freePort, killAll, startNode, startRelayNode, startShareNode } from './procs.mjs';
import { consoleTable, insertSection, machine, markdownSection } from './report.mjs';
import { median } from './stats.mjs';

const { RelayApi } = extension;
const { AdaptiveLimit } = relay;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'extension/dist/cli/main.js');
const DOC = join(ROOT, 'docs/benchmarks.md');
const env = process.env;
const config = {
  runs: Number(env.BENCH_RUNS ?? 3),
  windowMs: Number(env.BENCH_WINDOW_MS ?? 3000),
  sessions: Number(env.BENCH_STORM_SESSIONS ?? 4),
  concurrency: Number(env.BENCH_STORM_CONCURRENCY ?? 64),
  write: env.BENCH_WRITE !== '0',
  deadlineMs: 8 * 60_000,
};
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1e6;

/** The value of one series of a Prometheus text exposition (summed over label sets matching `labels`). */
function metric(text, name, labels = '') {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function scrape(port) {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/**
 * One stream, opened before any storm, writing into the sink without end: `rate(ms)` is what it
 * moved in the next `ms` (MB/s). Written bytes are counted as the socket takes them; with flow
 * control end to end, over seconds that is the rate the tunnel carries.
 */
async function steadyStream(port) {
  const socket = await connectTcp(port);
  socket.on('error', () => undefined);
  const head = Buffer.alloc(9);
  head[0] = 'S'.charCodeAt(0);
  head.writeBigUInt64BE(2n ** 60n, 1);
  socket.write(head);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  let running = true;
  const pump = () => {
    while (running) {
      written += chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return {
    async rate(ms) {
      const before = written;
      const t0 = performance.now();
      await sleep(ms);
      return (written - before) / ((performance.now() - t0) / 1000) / MB;
    },
    close() {
      running = false;
      socket.destroy();
    },
  };
}

async function rates(stream, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) out.push(await stream.rate(config.windowMs));
  return out;
}

async function scenario(name, relayArgs) {
  const dir = mkdtempSync(join(os.tmpdir(), 'tether-bench-overload-'));
  const procs = [];
  try {
    const target = startNode('target', [join(ROOT, 'bench/target.mjs')]);
    procs.push(target);
    const [, targetPort] = await target.waitFor('stdout', /^(\d+)$/);
    const metricsPort = await freePort();
    const relayProc = startRelayNode('relay', [CLI, 'relay', '--port', '0', '--data', dir, '--log-level', 'error', '--metrics-port', String(metricsPort), ...relayArgs]);
    procs.push(relayProc);
    const [url] = await relayProc.waitFor('stdout', /^http:\/\/\S+$/);
    const admin = new RelayApi(url, readFileSync(join(dir, 'admin-token'), 'utf8').trim());
    const alice = (await admin.createUser('alice')).token;
    const mallory = (await admin.createUser('mallory')).token;
    const host = startShareNode('host', [CLI, 'share', 'bulk', '--target', `127.0.0.1:${targetPort}`, '--relay', url, '--token', alice]);
    procs.push(host);
    await host.waitFor('stderr', /^Sharing /);
    const listen = await freePort();
    const connector = startNode('connector', [CLI, 'connect', 'bulk', '--listen', `127.0.0.1:${listen}`, '--relay', url, '--token', alice]);
    procs.push(connector);
    const [, port] = await connector.waitFor('stderr', /^Listening on 127\.0\.0\.1:(\d+)/);

    const stream = await steadyStream(Number(port));
    await stream.rate(1000); // warm-up
    const unloaded = await rates(stream, config.runs);

    const storm = startNode('storm', [join(ROOT, 'bench/overload-storm.mjs'), url, mallory, 'storm', String(config.sessions), String(config.concurrency)]);
    procs.push(storm);
    await storm.waitFor('stdout', /^\{/);
    await sleep(2000);
    const before = await scrape(metricsPort);
    const stormStart = JSON.parse(storm.lines.stdout.at(-1));
    const startedAt = performance.now();
    const loaded = await rates(stream, config.runs);
    stream.close();
    const seconds = (performance.now() - startedAt) / 1000;
    const after = await scrape(metricsPort);
    const stormEnd = JSON.parse(storm.lines.stdout.at(-1));
    const refusedBy = (code) => ((stormEnd.refused[code] ?? 0) - (stormStart.refused[code] ?? 0)) / seconds;
    const shed = metric(after, 'tether_opens_shed_total') - metric(before, 'tether_opens_shed_total');
    const rateRefused = metric(after, 'tether_rate_limit_decisions_total', 'outcome="refused"') - metric(before, 'tether_rate_limit_decisions_total', 'outcome="refused"');
    return {
      name,
      unloaded: median(unloaded),
      loaded: median(loaded),
      stormOk: (stormEnd.ok - stormStart.ok) / seconds,
      stormRateLimited: refusedBy('TETHER_ERR_RATE_LIMITED'),
      stormOtherRefused: Object.keys(stormEnd.refused).filter((c) => c !== 'TETHER_ERR_RATE_LIMITED').reduce((n, c) => n + refusedBy(c), 0),
      shedPerSecond: shed / seconds,
      rateRefusedPerSecond: rateRefused / seconds,
      loopP99Ms: metric(after, 'tether_event_loop_delay_p99_seconds') * 1000,
      openLimit: metric(after, 'tether_open_concurrency_limit'),
    };
  } finally {
    for (const proc of procs.reverse()) await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The adaptive limit on the synthetic relay of its unit test: opens take 10 ms while at most
 * `capacity` are under way, proportionally longer past it; demand never ends. Returns where it
 * settled at capacity 100 and how many samples after capacity halves until it stays within
 * ±10% of where it settles at 50.
 */
function settling() {
  const limiter = new AdaptiveLimit({ initialLimit: 20 });
  const step = (capacity) => {
    while (limiter.acquire());
    limiter.release(10 * Math.max(1, limiter.stats.inflight / capacity));
    return limiter.limit;
  };
  for (let i = 0; i < 3000; i++) step(100);
  const at100 = limiter.limit;
  const trace = Array.from({ length: 2000 }, () => step(50));
  const target = trace.at(-1);
  let last = -1;
  trace.forEach((limit, i) => {
    if (Math.abs(limit - target) > 0.1 * target) last = i;
  });
  return { at100, at50: target, samples: last + 2 };
}

const deadline = setTimeout(() => {
  log('bench:overload: over its deadline; stopping everything');
  killAll();
  process.exit(1);
}, config.deadlineMs);
process.on('exit', killAll);

const meta = machine();
const began = performance.now();
const results = [];
for (const [name, args] of [['as shipped (rate limits and adaptive limit)', []], ['rate limits off (adaptive limit only)', ['--rate-limits', 'off']]]) {
  log(`bench:overload: ${name}`);
  results.push(await scenario(name, args));
}
const settle = settling();
clearTimeout(deadline);

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const rows = results.flatMap((r) => [
  { metric: `${r.name}: established stream MB/s unloaded → under the storm`, value: `${fmt(r.unloaded)} → ${fmt(r.loaded)} (${fmt((100 * r.loaded) / r.unloaded)}%)`, target: '≥ 50%', verdict: r.loaded >= r.unloaded / 2 ? 'PASS' : 'MISS' },
  { metric: `${r.name}: storm opens/s admitted; refused RATE_LIMITED /s (of which shed by the adaptive limit); other refusals /s`, value: `${fmt(r.stormOk)}; ${fmt(r.stormRateLimited)} (${fmt(r.shedPerSecond)}); ${fmt(r.stormOtherRefused)}`, target: '', verdict: '' },
  { metric: `${r.name}: relay event-loop p99 ms; adaptive open limit`, value: `${fmt(r.loopP99Ms, 1)}; ${fmt(r.openLimit)}`, target: '', verdict: '' },
]);
rows.push({ metric: 'adaptive limit (synthetic relay): settled at capacity 100 → 50; samples after the halving until within ±10%', value: `${fmt(settle.at100)} → ${fmt(settle.at50)}; ${settle.samples}`, target: '≤ 200 samples', verdict: settle.samples <= 200 ? 'PASS' : 'MISS' });
process.stdout.write(`${consoleTable(rows)}\n`);
meta.loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
meta.durationS = Math.round((performance.now() - began) / 1000);
meta.commit = `${meta.commit}, npm run bench:overload`;
if (config.write) {
  const busy = Number(meta.loadStart.split(' ')[0]);
  const notes = [
    ...(busy > Number(meta.nproc) / 2 ? [`**The machine was busy** (1-minute load average ${busy.toFixed(1)} on ${meta.nproc} cores before the run started): throughput is understated; rerun on an idle machine.`] : []),
    `Storm: ${config.sessions} connector links × ${config.concurrency} opens kept under way to another user's tunnel, from another address (127.0.0.2), re-opening at once on every answer. Measured: one stream opened before the storm, \`tether connect\` → relay → \`tether share\` → sink, writing without pause; the median of ${config.runs} windows of ${config.windowMs / 1000} s before the storm and during it.`,
  ];
  insertSection(DOC, markdownSection(meta, rows, notes));
}
