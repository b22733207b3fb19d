import { readFileSync } from 'node:fs';

/** Reads /proc/PID/<file>; undefined when the process is gone or /proc is not there. */
export type ProcReader = (pid: number, file: 'stat' | 'cmdline') => string | undefined;

const readProc: ProcReader = (pid, file) => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
};

/** The parent PID from /proc/PID/stat (the field after the parenthesised command name). */
function parentOf(pid: number, read: ProcReader): number | undefined {
  const stat = read(pid, 'stat');
  const match = stat === undefined ? null : /\) \S+ (\d+)/.exec(stat.slice(stat.lastIndexOf(')')));
  return match ? Number(match[1]) : undefined;
}

/**
 * The `npm exec` (npx) process that launched us, among our nearest ancestors, when there is
 * one. npm runs a bin as `npm exec` → `sh -c` → node, and dies on SIGHUP without passing it on:
 * ssh's SIGHUP to its ProxyCommand would leave `tether proxy` running under PID 1.
 */
export function findNpmLauncher(parent: number, read: ProcReader = readProc): number | undefined {
  let pid: number | undefined = parent;
  for (let depth = 0; depth < 4 && pid !== undefined && pid > 1; depth++) {
    const cmdline = read(pid, 'cmdline');
    if (cmdline === undefined) return undefined;
    // npm sets its title to `npm exec …`; an older one shows as `node …/npx-cli.js`.
    if (/^(npm exec|npx)\b/.test(cmdline) || /\bnpx(-cli\.js)?\0/.test(cmdline)) return pid;
    pid = parentOf(pid, read);
  }
  return undefined;
}

/**
 * Calls `gone` once the npx process that launched us has exited (checked every `everyMs`);
 * nothing when we were not launched by npx, or off Linux. Returns a function that stops the watch.
 */
export function watchNpmLauncher(gone: () => void, everyMs = 500): () => void {
  if (process.platform !== 'linux') return () => undefined;
  const launcher = findNpmLauncher(process.ppid);
  if (launcher === undefined) return () => undefined;
  const timer = setInterval(() => {
    try {
      process.kill(launcher, 0);
    } catch {
      clearInterval(timer);
      gone();
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
