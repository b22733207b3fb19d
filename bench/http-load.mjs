// The load generators of `npm run bench:http`, run as child processes: wrk (HTTP/1.1 keep-alive)
// and h2load (h2, h2c with prior knowledge on an http:// URL). Each run returns
// { rps, p50Ms, p99Ms, requests, errors } measured by the tool itself.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { percentile } from './stats.mjs';

const run = promisify(execFile);

/** wrk reports its own latency percentiles (µs) and counts through this script, as one JSON line. */
const WRK_REPORT = `
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format('{"requests":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors))
end
`;

/** Fails with the tool's own words when it is missing (Debian packages wrk and nghttp2-client). */
export async function requireTools() {
  for (const [tool, pkg] of [['wrk', 'wrk'], ['h2load', 'nghttp2-client']]) {
    try {
      await run(tool, ['--version']);
    } catch (err) {
      // wrk --version exits 1 after printing its version; only a missing program is fatal.
      if (err.code === 'ENOENT') throw new Error(`bench:http needs ${tool} (Debian package ${pkg})`, { cause: err });
    }
  }
}

/** The wrk command line for `url` with Host `host` (shown in the report as run). */
export function wrkArgs({ url, host, connections, seconds, script }) {
  return ['-t1', `-c${connections}`, `-d${seconds}s`, '-H', `Host: ${host}`, ...(script ? ['-s', script] : []), url];
}

/** The h2load command line for `url` with :authority `authority`. */
export function h2loadArgs({ url, authority, connections, streams, seconds, warmupSeconds, logFile }) {
  return [`-c${connections}`, `-m${streams}`, `-D${seconds}`, `--warm-up-time=${warmupSeconds}`, '-H', `:authority: ${authority}`, ...(logFile ? [`--log-file=${logFile}`] : []), url];
}

/** A folder for wrk's report script and h2load's per-request logs; `dispose()` removes it. */
export function loadDir() {
  const dir = mkdtempSync(join(os.tmpdir(), 'tether-bench-http-'));
  const script = join(dir, 'report.lua');
  writeFileSync(script, WRK_REPORT);
  return { dir, script, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One wrk run (one thread: the machine has two cores to share with the relay and the origin). */
export async function wrk(options) {
  const { stdout } = await run('wrk', wrkArgs(options), { maxBuffer: 1 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no report:\n${stdout}`);
  const r = JSON.parse(line);
  const nonOk = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  return { rps: r.requests / (r.us / 1e6), p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, requests: r.requests, errors: r.errors + Number(nonOk?.[1] ?? 0) };
}

/** One h2load run; percentiles come from its per-request log (microseconds to the end of each response). */
export async function h2load(options, dir, index) {
  const logFile = join(dir, `h2load-${index}.log`);
  const { stdout } = await run('h2load', h2loadArgs({ ...options, logFile }), { maxBuffer: 1 << 20 });
  const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(stdout);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  if (!finished || !counts) throw new Error(`h2load printed no summary:\n${stdout}`);
  const micros = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => Number(l.split('\t')[2]));
  rmSync(logFile, { force: true });
  return {
    rps: Number(finished[3]),
    p50Ms: percentile(micros, 50) / 1000,
    p99Ms: percentile(micros, 99) / 1000,
    requests: Number(counts[3]),
    errors: Number(counts[4]) + Number(counts[5]),
  };
}
