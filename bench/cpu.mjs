// CPU time of the benchmark's processes over exactly one transfer, read from /proc/<pid>/stat
// (user + system of all the process's threads, in clock ticks), for the CPU-per-GiB rows.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux x86-64 and arm64
const GiB = 1024 ** 3;

/** User + system CPU seconds `pid` has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Sums CPU seconds per process over the transfers it is a probe for: `begin()` right before a
 * transfer's clock starts, `end(bytes, seconds)` right after it stops. `procs` is
 * [{ name, pid }]; the driver itself is { name: 'driver', pid: process.pid }.
 */
export function cpuMeter(procs) {
  const cpu = procs.map(() => 0);
  let before = [];
  let bytes = 0;
  let wall = 0;
  return {
    begin() {
      before = procs.map((p) => cpuSeconds(p.pid));
    },
    end(n, seconds) {
      procs.forEach((p, i) => {
        cpu[i] += cpuSeconds(p.pid) - before[i];
      });
      bytes += n;
      wall += seconds;
    },
    /** [{ name, seconds (CPU s in all), perGiB (CPU s per GiB moved), core (share of one core while moving) }]. */
    result() {
      return procs.map((p, i) => ({ name: p.name, seconds: cpu[i], perGiB: cpu[i] / (bytes / GiB), core: cpu[i] / wall }));
    },
  };
}
