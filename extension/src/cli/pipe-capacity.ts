import { fstatSync, readFileSync } from 'node:fs';
import { debugLog } from '@tether/shared';
import { F_SETPIPE_SZ, PROXY_PIPE_BYTES } from '../core/proxy-pipes.js';
import { loadLibc } from './libc.js';

export { PROXY_PIPE_BYTES };

/** What became of one descriptor: its new capacity, or why it kept its own. */
export type PipeWidening = { fd: number; bytes: number } | { fd: number; skipped: string };

/** Calls fcntl(fd, F_SETPIPE_SZ, bytes): the capacity set (may be rounded up), or -1 with errno. */
export type SetPipeSize = (fd: number, bytes: number) => { result: number; errno: number };

async function loadSetPipeSize(): Promise<SetPipeSize | string> {
  const libc = await loadLibc();
  return typeof libc === 'string' ? libc : (fd, bytes) => libc.fcntl(fd, F_SETPIPE_SZ, bytes);
}

/** The most an unprivileged process may give a pipe here (/proc/sys/fs/pipe-max-size). */
function pipeMaxSize(): number {
  try {
    const n = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : PROXY_PIPE_BYTES;
  } catch {
    return PROXY_PIPE_BYTES;
  }
}

function isPipe(fd: number): boolean {
  try {
    return fstatSync(fd).isFIFO();
  } catch {
    return false;
  }
}

export interface WidenOptions {
  platform?: NodeJS.Platform;
  /** Stands in for libc's fcntl (tests). */
  setPipeSize?: SetPipeSize;
}

/**
 * Gives each of `fds` that is a pipe a capacity of `bytes` (at most the system's pipe-max-size),
 * on Linux. Best effort: a descriptor that is not a pipe, a system that refuses (a user over
 * /proc/sys/fs/pipe-user-pages-soft gets EPERM) or a build without koffi keeps its capacity,
 * which only costs speed. Each outcome goes to the TETHER_DEBUG trace.
 */
export async function widenPipes(fds: readonly number[], bytes = PROXY_PIPE_BYTES, options: WidenOptions = {}): Promise<PipeWidening[]> {
  const platform = options.platform ?? process.platform;
  const out: PipeWidening[] = [];
  const pipes: number[] = [];
  for (const fd of fds) {
    if (platform !== 'linux') out.push({ fd, skipped: `not Linux (${platform})` });
    else if (!isPipe(fd)) out.push({ fd, skipped: 'not a pipe' });
    else pipes.push(fd);
  }
  if (pipes.length > 0) {
    const setPipeSize = options.setPipeSize ?? (await loadSetPipeSize());
    const want = Math.min(bytes, pipeMaxSize());
    for (const fd of pipes) {
      if (typeof setPipeSize === 'string') {
        out.push({ fd, skipped: setPipeSize });
        continue;
      }
      const { result, errno } = setPipeSize(fd, want);
      out.push(result > 0 ? { fd, bytes: result } : { fd, skipped: `fcntl(F_SETPIPE_SZ, ${want}) failed, errno ${errno}` });
    }
  }
  out.sort((a, b) => a.fd - b.fd);
  for (const w of out) debugLog('pipe', 'bytes' in w ? 'widened' : 'kept', { ...w });
  return out;
}
