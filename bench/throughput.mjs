// Section "throughput" of bench/run.mjs: bulk throughput of one stream, both directions, through
// the tunnel, direct TCP, the forwarding chain and websockify, with the CPU each process of the
// tunnel and of the chain spends per GiB moved.
import { tcpDownload, tcpUpload, wsDownload, wsUpload } from './clients.mjs';
import { cpuMeter } from './cpu.mjs';
import { MiB, atLeast, fmt, row } from './rows.mjs';
import { median } from './stats.mjs';

export const DIRECTIONS = [
  ['upload', 'client → target'],
  ['download', 'target → client'],
];

/** The cold-start transfer: the first bytes each path moves, on fresh processes. */
const COLD_BYTES = 32 * MiB;

/** Bytes that take about `seconds` on this path (grows until one transfer takes >= 0.4 s). */
async function calibrate(transfer, seconds) {
  let n = 32 * MiB;
  for (;;) {
    const s = await transfer(n);
    if (s >= 0.4 || n >= 4096 * MiB) {
      const bytes = Math.round(((n / s) * seconds) / MiB) * MiB;
      return Math.min(Math.max(bytes, 16 * MiB), 8192 * MiB);
    }
    n *= 4;
  }
}

/**
 * MB/s by path name of the first COLD_BYTES each path moves in `direction`. The section runs
 * first, on processes that have moved nothing yet: what a user's first copy after starting the
 * tunnel sees.
 */
async function measureCold(paths, direction, log) {
  const cold = {};
  for (const path of paths) {
    cold[path.name] = COLD_BYTES / (await path[direction](COLD_BYTES)) / 1e6;
    log(`  ${direction} ${path.name} cold (the first ${COLD_BYTES / MiB} MiB on fresh processes): ${fmt(cold[path.name], 1)} MB/s`);
  }
  return cold;
}

/**
 * Medians of `runs` runs per path and direction; for paths with `cpuProcs` ([{ name, pid }]) the
 * CPU of each process over exactly the measured transfers (not the calibration ones).
 */
async function measure(paths, { seconds, runs, warmupMiB }, log) {
  const results = {};
  for (const [direction] of DIRECTIONS) {
    const sizes = {};
    for (const path of paths) {
      // Warm before calibrating: every process on the path grows its heaps and pools over its
      // first few hundred MiB (the tunnel's at 60 MB/s for the first 32 MiB, the chain's at 115),
      // and a calibration on a cold path picks a size that then measures the warm-up.
      if (warmupMiB > 0) await path[direction](warmupMiB * MiB);
      sizes[path.name] = await calibrate(path[direction], seconds);
      log(`  ${direction} ${path.name}: ${sizes[path.name] / MiB} MiB per run`);
    }
    const rates = Object.fromEntries(paths.map((p) => [p.name, []]));
    const meters = Object.fromEntries(paths.filter((p) => p.cpuProcs).map((p) => [p.name, cpuMeter(p.cpuProcs)]));
    // Runs interleave the paths so a burst of load elsewhere hits all of them alike.
    for (let run = 0; run < runs; run++) {
      for (const path of paths) {
        const n = sizes[path.name];
        const meter = meters[path.name];
        const probe = meter && { begin: meter.begin, end: (s) => meter.end(n, s) };
        const s = await path[direction](n, probe);
        rates[path.name].push(n / s / 1e6);
        log(`  ${direction} ${path.name} run ${run + 1}: ${fmt(n / s / 1e6, 1)} MB/s`);
      }
    }
    results[direction] = {
      rates: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)])),
      all: rates,
      cpu: Object.fromEntries(Object.entries(meters).map(([k, m]) => [k, m.result()])),
    };
  }
  return results;
}

const cpuOf = (list, name) => list.find((c) => c.name === name)?.perGiB ?? NaN;
const cpuTotal = (list) => list.reduce((sum, c) => sum + c.perGiB, 0);
const cpuText = (list) => list.map((c) => `${c.name} ${fmt(c.perGiB, 2)} s (${fmt(c.core * 100, 0)}%)`).join(', ');

/**
 * Runs the section on the paths `ctx` holds running. Resolves with { rows, notes, tput } where
 * `tput[direction].rates` are the median MB/s by path name (the latency section's note uses them).
 */
export async function measureThroughput(ctx) {
  const { target, connector, tether, chain, websockify, config, log } = ctx;
  const driver = { name: 'driver', pid: process.pid };
  const paths = [
    { name: 'direct', upload: (n, p) => tcpUpload(target.port, n, p), download: (n, p) => tcpDownload(target.port, n, p) },
    {
      name: 'tunnel',
      upload: (n, p) => tcpUpload(connector.port, n, p),
      download: (n, p) => tcpDownload(connector.port, n, p),
      cpuProcs: [driver, ...[connector.proc, tether.relay, tether.host, target.proc].map((p) => ({ name: p.name, pid: p.pid }))],
    },
    {
      name: 'chain',
      upload: (n, p) => tcpUpload(chain.port, n, p),
      download: (n, p) => tcpDownload(chain.port, n, p),
      cpuProcs: [driver, ...[...chain.procs, target.proc].map((p) => ({ name: p.name, pid: p.pid }))],
    },
  ];
  if (websockify) paths.push({ name: 'websockify', upload: (n) => wsUpload(websockify.port, n), download: (n) => wsDownload(websockify.port, n) });
  const [coldDirection, coldLabel] = DIRECTIONS[0];
  const cold = await measureCold(paths, coldDirection, log);
  const tput = await measure(paths, config, log);

  const rows = [];
  const notes = [];
  rows.push(row(`cold start ${coldLabel}, the first ${COLD_BYTES / MiB} MiB on fresh processes: tunnel (MB/s)`, cold.tunnel, 1));
  rows.push(row(`cold start ${coldLabel}, the first ${COLD_BYTES / MiB} MiB on fresh processes: TCP forwarding chain (MB/s)`, cold.chain, 1));
  rows.push(row(`cold start ${coldLabel}: tunnel / forwarding chain`, cold.tunnel / cold.chain, 2));
  for (const [direction, label] of DIRECTIONS) {
    const r = tput[direction].rates;
    const cpu = tput[direction].cpu;
    rows.push(row(`throughput ${label}: direct TCP (MB/s)`, r.direct, 1));
    rows.push(row(`throughput ${label}: tunnel (MB/s)`, r.tunnel, 1));
    rows.push(row(`throughput ${label}: TCP forwarding chain (MB/s)`, r.chain, 1));
    rows.push(row(`throughput ${label}: websockify (MB/s)`, r.websockify ?? NaN, 1));
    rows.push(row(`throughput ${label}: tunnel / direct`, r.tunnel / r.direct, 2));
    rows.push(row(`throughput ${label}: tunnel / forwarding chain`, r.tunnel / r.chain, 2, atLeast(0.85)));
    // The 2× target is for upload only: see the websockify note.
    rows.push(row(`throughput ${label}: tunnel / websockify`, r.websockify === undefined ? NaN : r.tunnel / r.websockify, 2, direction === 'upload' ? atLeast(2) : undefined));
    rows.push(row(`relay CPU per GiB, ${label} (s)`, cpuOf(cpu.tunnel, 'relay'), 2));
    rows.push(row(`chain's middle forwarder (fwd2) CPU per GiB, ${label} (s)`, cpuOf(cpu.chain, 'fwd2'), 2));
    rows.push(row(`tunnel CPU per GiB, all five processes, ${label} (s)`, cpuTotal(cpu.tunnel), 2));
    rows.push(row(`chain CPU per GiB, all five processes, ${label} (s)`, cpuTotal(cpu.chain), 2));
    notes.push(`Throughput ${label}, MB/s of each run (median reported): ${Object.entries(tput[direction].all).map(([k, v]) => `${k} ${v.map((x) => fmt(x, 0)).join('/')}`).join('; ')}. ` +
      `CPU seconds per GiB moved (share of one core while moving) over exactly the measured transfers, from /proc/<pid>/stat: tunnel ${cpuText(cpu.tunnel)}; forwarding chain ${cpuText(cpu.chain)}.`);
  }
  notes.push(`Cold start: the first ${COLD_BYTES / MiB} MiB each path moved ${coldLabel}, on processes that had moved nothing before (this section runs first). ` +
    `Then each path moved ${config.warmupMiB} MiB each way (BENCH_WARMUP_MIB) before its run size was calibrated and its runs measured, so the runs compare warm processes: a process's heaps and buffer pools grow over its first few hundred MiB.`);
  notes.push('Forwarding chain: driver → fwd1 → fwd2 → fwd3 → target, three `bench/forwarder.mjs` processes (node:net, Nagle off, `pipe()` both ways, half-close kept): the same five processes as the tunnel with none of its WebSocket framing, multiplexing or flow control, the floor for a five-process path on this machine; the tunnel is to reach 0.85× it both ways.');
  notes.push(ctx.wsVersion
    ? `websockify ${ctx.wsVersion.replace(' ', ', ')} (\`${ctx.python} -m websockify\`), driven by a Node \`ws\` client (default settings: random masks as RFC 6455 asks of clients, no compression) sending 64 KiB binary messages with backpressure. ` +
      'The 2× target is for upload only, where websockify unmasks every byte the client sent; target → client it only frames the bytes (RFC 6455 masks only what a client sends, so there is nothing to unmask), the cheap half of its work, and that ratio is informational.'
    : 'websockify not found: its rows read n/a.');
  return { rows, notes, tput };
}
