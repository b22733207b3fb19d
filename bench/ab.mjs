// A/B of the data path between two commits, alternated in one run: `npm run bench:ab -- BASE [HEAD]`.
// Each variant is checked out into a temporary git worktree and built; every round starts fresh
// relay, host and connector processes of one variant, measures upload and download of one stream
// (with the CPU seconds and minor page faults each of the three processes spent per GiB, from
// /proc/<pid>/stat), round-trip latency and stream-open time, and stops them; rounds alternate A, B, B, A, … so
// background load hits both alike. The target process and the measuring clients are shared.
// Prints medians per variant and B/A ratios; with BENCH_WRITE=1 it also inserts them into
// docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';
import { echoClient, tcpDownload, tcpUpload } from './clients.mjs';
import { freePort, killAll, startNode, startRelayNode, startShareNode } from './procs.mjs';
import { insertSection } from './report.mjs';
import { median, summary } from './stats.mjs';

const { Connector, RelayApi, webSocketFactory } = extension;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const env = process.env;
const config = {
  rounds: Number(env.AB_ROUNDS ?? 4),
  bytes: Number(env.AB_MIB ?? 384) * MiB,
  pings: Number(env.AB_PINGS ?? 3000),
  opens: Number(env.AB_OPENS ?? 600),
  write: env.BENCH_WRITE === '1',
};
const log = (line) => process.stderr.write(`${line}\n`);
const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** A built checkout of `ref` (or the working tree for 'WORKTREE'). */
function prepare(ref, tmp) {
  if (ref === 'WORKTREE') return { name: `working tree (${git('rev-parse', '--short', 'HEAD')}+)`, root: ROOT };
  const sha = git('rev-parse', '--short', ref);
  const dir = join(tmp, sha);
  git('worktree', 'add', '--detach', dir, sha);
  // The same installed dependencies serve both checkouts; the workspace links in node_modules
  // are relative, so they point at the checkout's own packages.
  // A workspace may hold versions of its own (extension/node_modules): those come along too.
  for (const where of ['.', ...JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces]) {
    const modules = join(ROOT, where, 'node_modules');
    if (existsSync(modules)) cpSync(modules, join(dir, where, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  }
  log(`building ${sha} in ${dir}`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: dir, stdio: 'inherit' });
  return { name: sha, root: dir, worktree: dir };
}

async function startPath(variant, targetPort, dir) {
  const cli = join(variant.root, 'extension/dist/cli/main.js');
  // Rate limits off: the stream-open rounds open hundreds of streams a second on purpose.
  const relay = startRelayNode('relay', [cli, 'relay', '--port', '0', '--data', dir, '--log-level', 'warn', '--rate-limits', 'off']);
  const [url] = await relay.waitFor('stdout', /^http:\/\/\S+$/);
  const adminToken = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const { token } = await new RelayApi(url, adminToken).createUser('ab');
  const host = startShareNode('host', [cli, 'share', 'ab', '--target', `127.0.0.1:${targetPort}`, '--relay', url, '--token', token]);
  await host.waitFor('stderr', /^Sharing /);
  const listen = await freePort();
  const connector = startNode('connector', [cli, 'connect', 'ab', '--listen', `127.0.0.1:${listen}`, '--relay', url, '--token', token]);
  const [, port] = await connector.waitFor('stderr', /^Listening on 127\.0\.0\.1:(\d+)/);
  return { url, token, port: Number(port), procs: { connector, relay, host }, stop: async () => { await connector.stop(); await host.stop(); await relay.stop(); } };
}

/** Runs `transfer` (resolving with its seconds) and what it cost each process: CPU seconds and minor page faults. */
async function costOf(procs, transfer) {
  const before = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, [p.cpuSeconds(), p.minorFaults()]]));
  const seconds = await transfer();
  const cost = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, [p.cpuSeconds() - before[k][0], p.minorFaults() - before[k][1]]]));
  return { seconds, cost };
}

/** CPU seconds per GiB of each process, of the three together, and their page faults (thousands) per GiB. */
function perGiB(suffix, { cost }) {
  const gib = config.bytes / 2 ** 30;
  const out = {};
  let cpu = 0;
  let faults = 0;
  for (const [name, [seconds, minflt]] of Object.entries(cost)) {
    out[`${name}Cpu${suffix}`] = seconds / gib;
    cpu += seconds;
    faults += minflt;
  }
  out[`tunnelCpu${suffix}`] = cpu / gib;
  out[`faults${suffix}`] = faults / gib / 1000;
  return out;
}

/** One round of one variant on fresh processes. */
async function round(variant, targetPort, dir) {
  const path = await startPath(variant, targetPort, dir);
  try {
    await tcpUpload(path.port, 16 * MiB); // warm-up
    const upload = await costOf(path.procs, () => tcpUpload(path.port, config.bytes));
    const download = await costOf(path.procs, () => tcpDownload(path.port, config.bytes));
    const up = config.bytes / upload.seconds / 1e6;
    const down = config.bytes / download.seconds / 1e6;
    const echo = await echoClient(path.port);
    for (let i = 0; i < 300; i++) await echo.rtt();
    const rtts = [];
    for (let i = 0; i < config.pings; i++) rtts.push(await echo.rtt());
    echo.close();
    const connector = new Connector(webSocketFactory({ relay: path.url, token: path.token }));
    await connector.session();
    const opens = [];
    for (let i = 0; i < 100 + config.opens; i++) {
      const t0 = performance.now();
      const stream = await connector.open('ab');
      if (i >= 100) opens.push(performance.now() - t0);
      stream.reset();
    }
    connector.close();
    const rtt = summary(rtts);
    const open = summary(opens);
    return { up, down, ...perGiB('Up', upload), ...perGiB('Down', download), rttP50: rtt.p50, rttP95: rtt.p95, openP50: open.p50, openP95: open.p95 };
  } finally {
    await path.stop();
  }
}

const METRICS = [
  ['up', 'upload MB/s', 1, 'higher'],
  ['down', 'download MB/s', 1, 'higher'],
  ['tunnelCpuUp', 'upload: CPU s/GiB, connector + relay + host', 2, 'lower'],
  ['connectorCpuUp', 'upload: connector CPU s/GiB', 2, 'lower'],
  ['relayCpuUp', 'upload: relay CPU s/GiB', 2, 'lower'],
  ['hostCpuUp', 'upload: host CPU s/GiB', 2, 'lower'],
  ['faultsUp', 'upload: page faults per GiB (thousands, three processes)', 0, 'lower'],
  ['tunnelCpuDown', 'download: CPU s/GiB, connector + relay + host', 2, 'lower'],
  ['connectorCpuDown', 'download: connector CPU s/GiB', 2, 'lower'],
  ['relayCpuDown', 'download: relay CPU s/GiB', 2, 'lower'],
  ['hostCpuDown', 'download: host CPU s/GiB', 2, 'lower'],
  ['faultsDown', 'download: page faults per GiB (thousands, three processes)', 0, 'lower'],
  ['rttP50', 'RTT p50 ms', 3, 'lower'],
  ['rttP95', 'RTT p95 ms', 3, 'lower'],
  ['openP50', 'stream open p50 ms', 3, 'lower'],
  ['openP95', 'stream open p95 ms', 3, 'lower'],
];

async function main() {
  const [refA, refB = 'WORKTREE'] = process.argv.slice(2);
  if (!refA) throw new Error('usage: node bench/ab.mjs BASE [HEAD]   (HEAD defaults to the working tree)');
  const tmp = mkdtempSync(join(os.tmpdir(), 'tether-ab-'));
  const variants = [];
  try {
    variants.push(prepare(refA, tmp), prepare(refB, tmp));
    const target = startNode('target', [join(ROOT, 'bench/target.mjs')]);
    const [, targetPort] = await target.waitFor('stdout', /^(\d+)$/);
    const results = variants.map(() => []);
    for (let r = 0; r < config.rounds; r++) {
      // A B, B A, A B, …: neither variant always runs first.
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const result = await round(variants[i], Number(targetPort), join(tmp, `data-${r}-${i}`));
        results[i].push(result);
        log(`round ${r + 1} ${variants[i].name}: ${METRICS.map(([k, label, d]) => `${label} ${result[k].toFixed(d)}`).join(', ')}`);
      }
    }
    await target.stop();
    const rows = METRICS.map(([key, label, digits, better]) => {
      const [a, b] = results.map((rs) => median(rs.map((x) => x[key])));
      const spread = results.map((rs) => rs.map((x) => x[key].toFixed(digits)).join('/'));
      return { label, a: a.toFixed(digits), b: b.toFixed(digits), ratio: (b / a).toFixed(3), better, spread };
    });
    const header = `| metric | ${variants[0].name} | ${variants[1].name} | B/A | better | every round (A; B) |\n|---|---|---|---|---|---|`;
    const table = [header, ...rows.map((r) => `| ${r.label} | ${r.a} | ${r.b} | ${r.ratio} | ${r.better} | ${r.spread[0]}; ${r.spread[1]} |`)].join('\n');
    process.stdout.write(`${table}\n`);
    if (config.write) {
      const date = new Date().toISOString().slice(0, 10);
      const intro = `### ${date} — A/B ${variants[0].name} → ${variants[1].name} (\`bench/ab.mjs\`)\n\n` +
        `${config.rounds} alternated rounds on fresh relay, host and connector processes each; ${config.bytes / MiB} MiB each way, ` +
        `${config.pings} pings, ${config.opens} stream opens per round; medians. ${os.cpus().length} cores, Node ${process.version}, ` +
        `load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end.\n\n`;
      insertSection(join(ROOT, 'docs/benchmarks.md'), `${intro}${table}\n`);
    }
  } finally {
    killAll();
    for (const v of variants) if (v.worktree) git('worktree', 'remove', '--force', v.worktree);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  killAll();
  log(`bench/ab: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
