import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { debugLog } from '@tether/shared';

/**
 * How `tether share`, `connect` and `proxy` keep V8 from collecting a small old generation over
 * and over, when Node was started without CLI_NODE_FLAGS (a CLI typed at a shell; `tether
 * service install`'s unit and the VS Code shim give them).
 *
 * V8 sets the old generation's next limit after each full collection: what survived times a
 * growing factor it picks from the speed of its collections, often its minimum of 1.1 in these
 * processes. With ~9 MiB live, buffers queued in 100 busy streams long enough to be promoted
 * crossed that limit every ~100 ms: 133–161 full collections per run of the bench's concurrent
 * section in `tether connect`, a fifth to a third of its CPU (docs/benchmarks.md, "100 streams: the old
 * generation of share and connect"). `--initial-old-space-size` cannot be set once the process
 * runs, but `--heap-growing-percent` is read each time V8 computes a limit: after each full
 * collection this sets it so the next limit lands near FLOOR_BYTES, and back to V8's own
 * choice (0) once the survivors reach half of it, so a large heap is never made to grow faster.
 */
export const FLOOR_BYTES = 64 * 1024 * 1024;

/** Highest percent set: a factor of 16 for a near-empty heap at start-up. */
export const MAX_PERCENT = 1500;

/** Percents are set in steps of this much, so a heap that wobbles does not reset the flag each time. */
const STEP = 50;

/** The --heap-growing-percent that puts the next old-generation limit near `floor` for `live` bytes; 0: V8's own. */
export function growingPercent(live: number, floor = FLOOR_BYTES): number {
  if (live * 2 >= floor) return 0;
  const percent = live > 0 ? (floor / live - 1) * 100 : MAX_PERCENT;
  return Math.min(MAX_PERCENT, Math.floor(percent / STEP) * STEP);
}

/** Bytes in V8's old space now. */
function oldSpaceUsed(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

export interface HeapFloorOptions {
  execArgv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Stand-ins for v8.setFlagsFromString and the old space's size (tests). */
  setFlags?: (flags: string) => void;
  liveBytes?: () => number;
}

/** Node options that size the old generation themselves (CLI_NODE_FLAGS is one): given any, the floor stands aside. */
const SIZING_FLAGS = ['--initial-old-space-size', '--heap-growing-percent'];

export type HeapFloor = { percent: () => number; stop: () => void } | { skipped: string };

/**
 * Keeps the floor (see FLOOR_BYTES) in this process unless Node was given an old-generation
 * size of its own (CLI_NODE_FLAGS, or any --initial-old-space-size or --heap-growing-percent) or
 * TETHER_HEAP_FLOOR=off. It watches full collections through a `gc` performance observer, which
 * holds no timer and keeps nothing alive. Each change goes to the TETHER_DEBUG trace.
 */
export function keepHeapFloor(options: HeapFloorOptions = {}): HeapFloor {
  const execArgv = options.execArgv ?? process.execArgv;
  const env = options.env ?? process.env;
  const given = execArgv.find((arg) => SIZING_FLAGS.some((flag) => arg === flag || arg.startsWith(`${flag}=`)));
  const outcome = given ? { skipped: `node was started with ${given}` } : env.TETHER_HEAP_FLOOR === 'off' ? { skipped: 'TETHER_HEAP_FLOOR=off' } : undefined;
  if (outcome) {
    debugLog('heap', 'kept', outcome);
    return outcome;
  }
  const setFlags = options.setFlags ?? ((flags: string) => v8.setFlagsFromString(flags));
  const liveBytes = options.liveBytes ?? oldSpaceUsed;
  let current = -1;
  const apply = (): void => {
    const live = liveBytes();
    const percent = growingPercent(live);
    if (percent === current) return;
    current = percent;
    setFlags(`--heap-growing-percent=${percent}`);
    debugLog('heap', 'growing', { percent, live });
  };
  apply();
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) apply();
  });
  observer.observe({ entryTypes: ['gc'] });
  return { percent: () => current, stop: () => observer.disconnect() };
}
