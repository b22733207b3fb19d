import { debugLog } from '@tether/shared';
import { loadLibc, type Libc } from './libc.js';

/**
 * How `tether relay`, `share`, `connect` and `proxy` set glibc's allocator. A tunnel's processes
 * allocate a buffer of up to 256 KiB for each WebSocket message that spans socket reads (ws joins
 * the pieces) and free it moments later. By default glibc serves blocks over 128 KiB with fresh
 * mmap()s and gives freed memory back to the system at once, so every such buffer costs a page
 * fault per 4 KiB on first touch. Serving blocks up to 1 MiB from the heap and trimming it only
 * past TRIM_THRESHOLD keeps those pages warm (docs/benchmarks.md, "glibc's allocator").
 */
export const MALLOC_TUNING = {
  /** Blocks below this come from the heap, reused, instead of their own mmap(). */
  mmapThreshold: 1024 * 1024,
  /** Freed memory at the top of the heap is given back once it exceeds this. */
  trimThreshold: 32 * 1024 * 1024,
} as const;

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
  libc?: Pick<Libc, 'mallopt'> | string;
}

/**
 * Sets MALLOC_TUNING in this process, on Linux, unless TETHER_MALLOC_TUNING=off or the operator
 * already tunes glibc's allocator (GLIBC_TUNABLES with glibc.malloc.*, or a MALLOC_*_ variable).
 * Best effort: without koffi, or on a libc that takes no mallopt (musl), the process keeps its
 * allocator's defaults, which only costs speed. The outcome goes to the TETHER_DEBUG trace.
 */
export async function tuneMalloc(options: TuneOptions = {}): Promise<MallocTuning> {
  const outcome = await decide(options);
  if ('tuned' in outcome) debugLog('malloc', 'tuned', { mmapThreshold: outcome.tuned.mmapThreshold, trimThreshold: outcome.tuned.trimThreshold });
  else debugLog('malloc', 'kept', { skipped: outcome.skipped });
  return outcome;
}

async function decide({ env = process.env, platform = process.platform, libc }: TuneOptions): Promise<MallocTuning> {
  if (platform !== 'linux') return { skipped: `not Linux (${platform})` };
  if (env.TETHER_MALLOC_TUNING === 'off') return { skipped: 'TETHER_MALLOC_TUNING=off' };
  if (/glibc\.malloc\./.test(env.GLIBC_TUNABLES ?? '')) return { skipped: 'GLIBC_TUNABLES sets glibc.malloc' };
  const operator = Object.keys(env).find((k) => OPERATOR_SETTINGS.test(k));
  if (operator) return { skipped: `${operator} is set` };
  const lib = libc ?? (await loadLibc());
  if (typeof lib === 'string') return { skipped: lib };
  // The trim threshold first: setting either turns off glibc's own adjustment of both.
  if (lib.mallopt(M_TRIM_THRESHOLD, MALLOC_TUNING.trimThreshold) !== 1 || lib.mallopt(M_MMAP_THRESHOLD, MALLOC_TUNING.mmapThreshold) !== 1) {
    return { skipped: 'mallopt refused (not glibc)' };
  }
  return { tuned: MALLOC_TUNING };
}
