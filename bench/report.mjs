// Turns the benchmark's rows into a console table and a section of docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const MARKER = '<!-- bench/run.mjs inserts each new run below this line: newest first, older runs kept below -->';

const INTRO = `# Benchmarks

The benchmark measures the data path of one relay on this machine: bulk throughput of one
stream (against direct TCP, a chain of plain TCP forwarders and websockify, in the same run),
added round-trip latency, the time to open a stream on a warm connection, and the relay's memory
per idle stream.

## Running it

\`\`\`sh
npm run bench            # = tsc -b && node bench/run.mjs (about 1-2 minutes on an idle machine)
\`\`\`

- Needs websockify for the comparison (Debian: \`apt-get install websockify python3-numpy\`;
  without numpy websockify unmasks frames in pure Python and looks far slower than it is). The
  run is invoked as \`/usr/bin/python3 -m websockify\`; without it the websockify rows read
  \`n/a\`.
- Everything binds 127.0.0.1. Each role is its own process, started and stopped by PID: the
  bench driver (the client sockets), \`tether connect --listen\` (connector), \`tether relay\`,
  \`tether share\` (host) and \`bench/target.mjs\` (sink, source, echo and idle-hold target), so
  the tunnel path client → connector → relay → host → target is five processes. Direct TCP is
  driver → target (two processes); websockify is driver → websockify → target.
- The forwarding chain is driver → fwd1 → fwd2 → fwd3 → target: three \`bench/forwarder.mjs\`
  processes (node:net, Nagle off, \`pipe()\` both ways, half-close kept), the same five processes
  as the tunnel without its WebSocket framing, multiplexing and flow control. On a small machine
  syscalls and process wake-ups dominate, so this chain is the fair floor for a five-process
  path: its rows (and "tunnel / forwarding chain") are informational, not targets, and the
  notes of each run say how much of the tunnel's added latency the process hops alone cost.
- Options (environment): \`BENCH_SECONDS\` (length of one throughput run, default 3),
  \`BENCH_RUNS\` (runs per throughput case, default 3; the median is reported),
  \`BENCH_PING_WARMUP\` (round trips per path before the latency section measures, default 5,000),
  \`BENCH_WRITE=0\` (print only, do not touch this file), \`BENCH_PROFILE=DIR\` (run relay, host and
  connector under \`node --cpu-prof\` and write their profiles to DIR), \`BENCH_NODE_FLAGS\` (more Node flags for those three, e.g. \`--trace-gc\`).
- Numbers from a busy machine are noise: run it on an idle one. MB is 10^6 bytes.
- Each run prints one table and inserts it below, newest first.

${MARKER}
`;

function pad(text, width, right = false) {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** A plain-text table of `rows` ({ metric, value, target, verdict }) for the console. */
export function consoleTable(rows) {
  const widths = [6, 5, 6, 7];
  for (const r of rows) {
    widths[0] = Math.max(widths[0], r.metric.length);
    widths[1] = Math.max(widths[1], r.value.length);
    widths[2] = Math.max(widths[2], r.target.length);
  }
  const line = (a, b, c, d) => `${pad(a, widths[0])}  ${pad(b, widths[1], true)}  ${pad(c, widths[2])}  ${d}`;
  const out = [line('metric', 'value', 'target', 'result'), line('-'.repeat(widths[0]), '-'.repeat(widths[1]), '-'.repeat(widths[2]), '------')];
  for (const r of rows) out.push(line(r.metric, r.value, r.target, r.verdict));
  return out.join('\n');
}

/** The Markdown section of one run. */
export function markdownSection(meta, rows, notes) {
  const out = [];
  out.push(`## ${meta.date}: ${meta.commit}`);
  out.push('');
  out.push(`Machine: ${meta.nproc} cores (${meta.cpu}), ${meta.memGiB} GiB, ${meta.os}; Node ${meta.node}; ` +
    `load average at start ${meta.loadStart}, at end ${meta.loadEnd}; run took ${meta.durationS} s.`);
  out.push('');
  out.push('| metric | value | target | result |');
  out.push('|---|---:|---|---|');
  for (const r of rows) out.push(`| ${r.metric} | ${r.value} | ${r.target} | ${r.verdict} |`);
  out.push('');
  for (const note of notes) out.push(`- ${note}`);
  out.push('');
  return out.join('\n');
}

/** Inserts `section` into `file` below the marker, keeping earlier runs below it. */
export function insertSection(file, section) {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!text.includes(MARKER)) text = INTRO + (text ? `\n${text}` : '');
  const at = text.indexOf(MARKER) + MARKER.length;
  writeFileSync(file, `${text.slice(0, at)}\n\n${section}${text.slice(at).replace(/^\n+/, '\n')}`);
}

/** The machine and checkout a run is on, for its section's header. */
export function machine() {
  let commit = 'unknown commit';
  try {
    commit = `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()}`;
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    commit,
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadStart: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
