import { debugLog } from '@tether/shared';
import { MALLOC_TUNING } from '../core/glibc-tunables.js';
import { loadLibc, type Libc } from './libc.js';

/**
 * How `tether relay`, `share`, `connect` and `proxy` set glibc's allocator. A tunnel's processes
 * allocate a buffer of up to 256 KiB for each WebSocket message that spans socket reads (ws joins
 * the pieces) and free it moments later. By default glibc serves blocks over 128 KiB with fresh
 * mmap()s and gives freed memory back to the system at once, so every such buffer costs a page
 * fault per 4 KiB on first touch. Serving blocks up to 1 MiB from the heap and trimming it only
 * past TRIM_THRESHOLD keeps those pages warm (docs/benchmarks.md, "glibc's allocator").
 */
export { MALLOC_TUNING };

/**
 * Memory the tuning keeps (up to the trim threshold, and free blocks below the top of the heap)
 * goes back to the system once the process has been idle for a check interval: under 2% of a
 * core used in the last 10 s. malloc_trim costs ~4 ms when it gives back 48 MiB, ~0.1 ms when
 * there is nothing to give; it runs once per idle spell.
 */
export const IDLE_TRIM = { everyMs: 10_000, idleCpuShare: 0.02 } as const;

/** mallopt's parameters (<malloc.h>). */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;

/** Environment variables through which an operator tunes glibc's allocator: those win. */
const OPERATOR_SETTINGS = /^(MALLOC_MMAP_THRESHOLD_|MALLOC_TRIM_THRESHOLD_|MALLOC_TOP_PAD_|MALLOC_ARENA_MAX)$/;

export type MallocTuning = { tuned: typeof MALLOC_TUNING } | { skipped: string };

export interface TuneOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Stands in for the process's libc (tests). */
  libc?: Pick<Libc, 'mallopt' | 'mallocTrim'> | string;
  /** How often to look for an idle spell to trim in (IDLE_TRIM.everyMs); 0: never. */
  idleTrimEveryMs?: number;
}

/**
 * Sets MALLOC_TUNING in this process, on Linux, unless TETHER_MALLOC_TUNING=off or the operator
 * already tunes glibc's allocator (GLIBC_TUNABLES with glibc.malloc.*, or a MALLOC_*_ variable).
 * Best effort: without koffi, or on a libc that takes no mallopt (musl), the process keeps its
 * allocator's defaults, which only costs speed. Once tuned, memory kept is given back in idle
 * spells (startIdleTrim, on an unref'd timer). Each outcome goes to the TETHER_DEBUG trace.
 */
export async function tuneMalloc(options: TuneOptions = {}): Promise<MallocTuning> {
  const { outcome, libc } = await decide(options);
  if ('tuned' in outcome) {
    debugLog('malloc', 'tuned', { mmapThreshold: outcome.tuned.mmapThreshold, trimThreshold: outcome.tuned.trimThreshold });
    const everyMs = options.idleTrimEveryMs ?? IDLE_TRIM.everyMs;
    if (libc && everyMs > 0) startIdleTrim(() => libc.mallocTrim(0), everyMs).unref();
  } else {
    debugLog('malloc', 'kept', { skipped: outcome.skipped });
  }
  return outcome;
}

type Decision = { outcome: MallocTuning; libc?: Pick<Libc, 'mallocTrim'> };

async function decide({ env = process.env, platform = process.platform, libc }: TuneOptions): Promise<Decision> {
  const keep = (skipped: string): Decision => ({ outcome: { skipped } });
  if (platform !== 'linux') return keep(`not Linux (${platform})`);
  if (env.TETHER_MALLOC_TUNING === 'off') return keep('TETHER_MALLOC_TUNING=off');
  if (/glibc\.malloc\./.test(env.GLIBC_TUNABLES ?? '')) return keep('GLIBC_TUNABLES sets glibc.malloc');
  const operator = Object.keys(env).find((k) => OPERATOR_SETTINGS.test(k));
  if (operator) return keep(`${operator} is set`);
  const lib = libc ?? (await loadLibc());
  if (typeof lib === 'string') return keep(lib);
  // The trim threshold first: setting either turns off glibc's own adjustment of both.
  if (lib.mallopt(M_TRIM_THRESHOLD, MALLOC_TUNING.trimThreshold) !== 1 || lib.mallopt(M_MMAP_THRESHOLD, MALLOC_TUNING.mmapThreshold) !== 1) {
    return keep('mallopt refused (not glibc)');
  }
  return { outcome: { tuned: MALLOC_TUNING }, libc: lib };
}

/**
 * Calls `trim` at the first check after the process turned idle (it used under
 * IDLE_TRIM.idleCpuShare of a core since the previous check), and not again until it has been
 * busy in between. `cpuUsage` stands in for process.cpuUsage (tests). Returns the timer.
 */
export function startIdleTrim(trim: () => number, everyMs: number, cpuUsage: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage = (previous) => process.cpuUsage(previous)): NodeJS.Timeout {
  let since = cpuUsage();
  let trimmed = false;
  return setInterval(() => {
    const used = cpuUsage(since);
    since = cpuUsage();
    if ((used.user + used.system) / 1000 > everyMs * IDLE_TRIM.idleCpuShare) {
      trimmed = false;
    } else if (!trimmed) {
      trimmed = true;
      debugLog('malloc', 'trimmed', { released: trim() === 1 });
    }
  }, everyMs);
}
