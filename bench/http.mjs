// `npm run bench:http` (= tsc -b && node bench/http.mjs): requests per second and p50/p99
// latency of small requests through one relay's HTTP ingress against the same origin directly,
// (a) HTTP/1.1 keep-alive GETs (wrk) and (b) h2 requests (h2load, h2c with prior knowledge).
// See docs/benchmarks.md ("HTTP through the relay"). Every number is measured in this run.
//
// Processes, each its own and stopped by PID: bench/http-origin.mjs (HTTP/1.1 and h2c ports),
// `tether relay --public-domain localhost`, `tether share web --http` (→ the HTTP/1.1 port) and
// `tether share api --http h2c` (→ the h2c port), both --access public, and the load generator.
// Direct: generator → origin. Through the relay: generator → relay → share → origin.
// Options (environment): BENCH_SECONDS (one measured run, default 10), BENCH_RUNS (runs per path,
// alternating direct and relay, default 3, median reported), BENCH_CONNECTIONS (wrk, default 50),
// BENCH_H2_CONNECTIONS × BENCH_H2_STREAMS (h2load, default 10 × 10), BENCH_CACHE_CONNECTIONS (the
// cache hit/miss comparison, default 1), BENCH_WRITE=0 (print only),
// BENCH_PROFILE=DIR (the relay under node --cpu-prof, its profile written to DIR).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { h2load, h2loadArgs, loadDir, requireTools, wrk, wrkArgs } from './http-load.mjs';
import { killAll, startNode, startRelayNode, startShareNode } from './procs.mjs';
import { consoleTable, insertSection, machine } from './report.mjs';
import { median } from './stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'extension/dist/cli/main.js');
const DOC = join(ROOT, 'docs/benchmarks.md');
const env = process.env;
const config = {
  seconds: Number(env.BENCH_SECONDS ?? 10),
  runs: Number(env.BENCH_RUNS ?? 3),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
  h2Connections: Number(env.BENCH_H2_CONNECTIONS ?? 10),
  h2Streams: Number(env.BENCH_H2_STREAMS ?? 10),
  /** The cache comparison measures each request's latency: one connection, nothing queued behind it. */
  cacheConnections: Number(env.BENCH_CACHE_CONNECTIONS ?? 1),
  write: env.BENCH_WRITE !== '0',
  profile: env.BENCH_PROFILE,
  /** Requests per second per relay node (docs: "HTTP through a tunnel"). */
  target: 5000,
};
const log = (line) => process.stderr.write(`${line}\n`);

/** The origin, the relay and the two shares; `stop()` ends them (the relay last but one, so its profile is whole). */
async function startPath(dataDir) {
  const procs = [];
  const origin = startNode('origin', [join(ROOT, 'bench/http-origin.mjs')]);
  procs.push(origin);
  const [, h1Port, h2Port] = await origin.waitFor('stdout', /^(\d+) (\d+)$/);
  const profile = config.profile ? ['--cpu-prof', `--cpu-prof-dir=${config.profile}`] : [];
  const relay = startRelayNode('relay', [CLI, 'relay', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, '--public-domain', 'localhost', '--log-level', 'error'], profile);
  procs.push(relay);
  const [url] = await relay.waitFor('stdout', /^http:\/\/\S+$/);
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const shares = {};
  for (const [name, port, http, more] of [['web', h1Port, 'http1', []], ['api', h2Port, 'h2c', []], ['cached', h1Port, 'http1', ['--cache', '16MB']]]) {
    const share = startShareNode(`share ${name}`, [CLI, 'share', name, '--target', `127.0.0.1:${port}`, '--http', http, '--access', 'public', ...more, '--relay', url, '--token', token]);
    procs.push(share);
    await share.waitFor('stderr', /^Sharing /);
    shares[name] = share;
  }
  const relayPort = Number(new URL(url).port);
  return {
    origin,
    relay,
    shares,
    h1: { direct: `http://127.0.0.1:${h1Port}/`, directHost: `127.0.0.1:${h1Port}`, relay: `http://127.0.0.1:${relayPort}/`, relayHost: `web.localhost:${relayPort}` },
    h2: { direct: `http://127.0.0.1:${h2Port}/`, directHost: `127.0.0.1:${h2Port}`, relay: `http://127.0.0.1:${relayPort}/`, relayHost: `api.localhost:${relayPort}` },
    // One tunnel with a cache: the cacheable answer (hits once stored) against a no-store one (misses).
    cache: { hit: `http://127.0.0.1:${relayPort}/`, miss: `http://127.0.0.1:${relayPort}/nostore`, host: `cached.localhost:${relayPort}` },
    async stop() {
      for (const proc of procs.reverse()) await proc.stop();
    },
  };
}

/** CPU per process (100% = one core) while `work` runs. */
async function withCpu(procs, work) {
  const before = procs.map((p) => p.cpuSeconds());
  const t0 = performance.now();
  const result = await work();
  const seconds = (performance.now() - t0) / 1000;
  return { result, cpu: procs.map((p, i) => ({ name: p.name, percent: (100 * (p.cpuSeconds() - before[i])) / seconds })) };
}

/**
 * `runs` measured runs per path, alternating direct and relay so that a change in the machine's
 * load lands on both; one unmeasured warm-up run of each first (JIT, kept-alive tunnel streams).
 */
async function measure(kind, path, generator) {
  const tool = (url, host, seconds) => generator({ url, host, authority: host, connections: kind === 'h1' ? config.connections : config.h2Connections, streams: config.h2Streams, seconds, warmupSeconds: 1 });
  await tool(path.direct, path.directHost, 3);
  await tool(path.relay, path.relayHost, 3);
  const direct = [];
  const relay = [];
  const cpu = [];
  for (let i = 0; i < config.runs; i++) {
    log(`bench:http: ${kind} run ${i + 1}/${config.runs}`);
    direct.push(await tool(path.direct, path.directHost, config.seconds));
    const measured = await withCpu([path.procs.relay, path.procs.share, path.procs.origin], () => tool(path.relay, path.relayHost, config.seconds));
    relay.push(measured.result);
    cpu.push(measured.cpu);
  }
  return { direct, relay, cpu };
}

/** Cache hits against misses through one tunnel with a cache, alternating, after a warm-up of each. */
async function measureCache(cache, generator) {
  const tool = (url, seconds) => generator({ url, host: cache.host, connections: config.cacheConnections, seconds });
  await tool(cache.hit, 3);
  await tool(cache.miss, 3);
  const hit = [];
  const miss = [];
  for (let i = 0; i < config.runs; i++) {
    log(`bench:http: cache run ${i + 1}/${config.runs}`);
    hit.push(await tool(cache.hit, config.seconds));
    miss.push(await tool(cache.miss, config.seconds));
  }
  return { hit, miss };
}

/** Median of each figure over the runs. */
function medians(results) {
  return { rps: median(results.map((r) => r.rps)), p50Ms: median(results.map((r) => r.p50Ms)), p99Ms: median(results.map((r) => r.p99Ms)), errors: results.reduce((n, r) => n + r.errors, 0) };
}

const deadline = setTimeout(() => {
  log('bench:http: over its deadline; stopping everything');
  killAll();
  process.exit(1);
}, 15 * 60_000);
process.on('exit', killAll);

await requireTools();
const meta = machine();
const began = performance.now();
const dataDir = mkdtempSync(join(os.tmpdir(), 'tether-bench-http-relay-'));
const load = loadDir();
let results;
let path;
try {
  path = await startPath(dataDir);
  const h1Path = { ...path.h1, procs: { relay: path.relay, share: path.shares.web, origin: path.origin } };
  const h2Path = { ...path.h2, procs: { relay: path.relay, share: path.shares.api, origin: path.origin } };
  const h1 = await measure('h1', h1Path, (o) => wrk({ ...o, script: load.script }));
  let n = 0;
  const h2 = await measure('h2', h2Path, (o) => h2load(o, load.dir, n++));
  const cached = await measureCache(path.cache, (o) => wrk({ ...o, script: load.script }));
  results = { h1, h2, cached };
} finally {
  await path?.stop();
  load.dispose();
  rmSync(dataDir, { recursive: true, force: true });
}
clearTimeout(deadline);
meta.loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
meta.durationS = Math.round((performance.now() - began) / 1000);

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const table = [];
const rows = [];
for (const [kind, label] of [['h1', 'HTTP/1.1 keep-alive GET (wrk)'], ['h2', 'h2c GET (h2load)']]) {
  const direct = medians(results[kind].direct);
  const relay = medians(results[kind].relay);
  table.push({ label, path: 'direct to the origin', ...direct });
  table.push({ label, path: 'through the relay', ...relay });
  const ratio = relay.rps / direct.rps;
  rows.push({ metric: `${label}: req/s direct → relay (ratio)`, value: `${fmt(direct.rps)} → ${fmt(relay.rps)} (${fmt(ratio, 2)})`, target: `≥ ${config.target} through the relay`, verdict: relay.rps >= config.target ? 'PASS' : 'MISS' });
  rows.push({ metric: `${label}: p50 / p99 ms direct → relay`, value: `${fmt(direct.p50Ms, 2)} / ${fmt(direct.p99Ms, 2)} → ${fmt(relay.p50Ms, 2)} / ${fmt(relay.p99Ms, 2)}`, target: '', verdict: '' });
}
{
  const hit = medians(results.cached.hit);
  const miss = medians(results.cached.miss);
  table.push({ label: 'HTTP/1.1 GET, tunnel with --cache (wrk)', path: 'cache hit (relay memory)', ...hit });
  table.push({ label: 'HTTP/1.1 GET, tunnel with --cache (wrk)', path: 'cache miss (no-store: to the origin)', ...miss });
  const faster = miss.p50Ms / hit.p50Ms;
  rows.push({ metric: 'cache hit vs miss: p50 ms (miss / hit)', value: `${fmt(hit.p50Ms, 2)} vs ${fmt(miss.p50Ms, 2)} (${fmt(faster, 1)}×)`, target: 'hit ≥ 3× faster', verdict: faster >= 3 ? 'PASS' : 'MISS' });
  rows.push({ metric: 'cache hit vs miss: req/s', value: `${fmt(hit.rps)} vs ${fmt(miss.rps)} (${fmt(hit.rps / miss.rps, 1)}×)`, target: '', verdict: '' });
}
process.stdout.write(`${consoleTable(rows)}\n`);

const cpuNote = (kind) => {
  const cpu = results[kind].cpu;
  return cpu[0].map((c, i) => `${c.name} ${fmt(median(cpu.map((run) => run[i].percent)))}%`).join(', ');
};
/** CPU microseconds per request of each process on the relay path (median over runs): what the load does not change much. */
const costNote = (kind) => {
  const { cpu, relay } = results[kind];
  return cpu[0].map((c, i) => `${c.name} ${fmt(median(cpu.map((run, r) => (run[i].percent / 100) * 1e6 / relay[r].rps)))}`).join(', ');
};
/** A command line as typed in a shell (arguments with spaces quoted). */
const shell = (args) => args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
const perRun = (kind, which) => results[kind][which].map((r) => fmt(r.rps)).join('/');
const sample = { connections: config.connections, h2Connections: config.h2Connections };
const out = [];
out.push(`## ${meta.date}: HTTP through the relay (\`npm run bench:http\`), ${meta.commit}`);
out.push('');
out.push(`Machine: ${meta.nproc} cores (${meta.cpu}), ${meta.memGiB} GiB, ${meta.os}; Node ${meta.node}; load average at start ${meta.loadStart}, at end ${meta.loadEnd}; run took ${meta.durationS} s.`);
out.push('');
out.push('| requests | path | req/s | p50 ms | p99 ms | errors |');
out.push('|---|---|---:|---:|---:|---:|');
for (const t of table) out.push(`| ${t.label} | ${t.path} | ${fmt(t.rps)} | ${fmt(t.p50Ms, 2)} | ${fmt(t.p99Ms, 2)} | ${t.errors} |`);
out.push('');
out.push('| metric | value | target | result |');
out.push('|---|---:|---|---|');
for (const r of rows) out.push(`| ${r.metric} | ${r.value} | ${r.target} | ${r.verdict} |`);
out.push('');
const busy = Number(meta.loadStart.split(' ')[0]);
const notes = [
  ...(busy > Number(meta.nproc) / 2 ? [`**The machine was busy** (1-minute load average ${busy.toFixed(1)} on ${meta.nproc} cores before the run started): every process here competes for the same two cores, so rates are understated; rerun on an idle machine.`] : []),
  `Commands (ports vary): \`wrk ${shell(wrkArgs({ url: path.h1.relay, host: path.h1.relayHost, connections: sample.connections, seconds: config.seconds, script: 'report.lua' }))}\` and \`h2load ${shell(h2loadArgs({ url: path.h2.relay, authority: path.h2.relayHost, connections: sample.h2Connections, streams: config.h2Streams, seconds: config.seconds, warmupSeconds: 1 }))}\`; direct, the same against the origin's own port and host. Median of ${config.runs} runs of ${config.seconds} s per path, direct and relay alternating, after a 3 s warm-up run of each.`,
  `Origin: bench/http-origin.mjs, one Node process answering 200 with a 128-byte body (node:http keep-alive, node:http2 h2c). Path through the relay: load generator → \`tether relay --public-domain localhost\` → \`tether share --http [h2c] --access public\` (WebSocket) → origin; four processes on two cores, against two direct.`,
  `req/s of each run: HTTP/1.1 direct ${perRun('h1', 'direct')}, relay ${perRun('h1', 'relay')}; h2 direct ${perRun('h2', 'direct')}, relay ${perRun('h2', 'relay')}.`,
  `CPU per process during the relay runs (100% = one core): HTTP/1.1 ${cpuNote('h1')}; h2 ${cpuNote('h2')}. CPU µs per request: HTTP/1.1 ${costNote('h1')}; h2 ${costNote('h2')} (a process with a core of its own could serve at most 10^6 / its µs per request).`,
  `Cache: one tunnel shared with \`--cache 16MB\` to the same origin; hits ask for its cacheable answer (\`public, max-age=60\`, stored after the first request), misses for \`/nostore\` (the same answer with \`no-store\`: through the cache layer, the tunnel and the share to the origin every time); wrk with ${config.cacheConnections} connection(s) (BENCH_CACHE_CONNECTIONS) so that each figure is one request's latency, not a queue's, median of ${config.runs} runs each, alternating.`,
];
for (const note of notes) out.push(`- ${note}`);
log(notes.slice(-3, -1).join('\n'));
out.push('');
if (config.write) insertSection(DOC, out.join('\n'));
