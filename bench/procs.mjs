// Child processes of the benchmark: each role runs in its own process group so that it (and
// anything it forks, like websockify's per-connection children) is stopped by its own PID.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { RELAY_NODE_FLAGS } from '@tether/relay/dist/node-flags.js';
import { CLI_NODE_FLAGS } from '../extension/dist/core/cli-node-flags.js';

const running = new Set();

/** A started child with its output kept line by line. */
class Child {
  constructor(name, command, args, env) {
    this.name = name;
    // Raise the descriptor limit where the role holds thousands of sockets (root may raise
    // the hard limit; otherwise fall back to it).
    const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"';
    this.proc = spawn('bash', ['-c', script, command, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.pid = this.proc.pid;
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.lines = { stdout: [], stderr: [] };
    this.waiters = [];
    for (const which of ['stdout', 'stderr']) {
      let partial = '';
      this.proc[which].setEncoding('utf8');
      this.proc[which].on('data', (text) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop();
        for (const line of parts) this.onLine(which, line);
      });
    }
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  onLine(which, line) {
    const kept = this.lines[which];
    kept.push(line);
    if (kept.length > 200) kept.shift();
    for (const waiter of [...this.waiters]) {
      if (waiter.which !== which) continue;
      const match = waiter.pattern.exec(line);
      if (match) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  }

  /** Resolves with the first line of `which` matching `pattern`. */
  waitFor(which, pattern, timeoutMs = 15_000) {
    for (const line of this.lines[which]) {
      const match = pattern.exec(line);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const fail = (why) => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: ${why} waiting for ${pattern} (stderr: ${this.lines.stderr.slice(-5).join(' | ')})`));
      };
      const timer = setTimeout(() => fail('timed out'), timeoutMs);
      const waiter = {
        which,
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        if (this.waiters.includes(waiter)) fail(`exited (${code ?? signal})`);
      });
    });
  }

  /** Resident memory in MB, from /proc/<pid>/status. */
  rssMB() {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)[1]);
    return kb / 1024;
  }

  /** User + system CPU seconds so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
  cpuSeconds() {
    const fields = this.statFields();
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** Minor page faults so far (memory touched for the first time), from /proc/<pid>/stat. */
  minorFaults() {
    return Number(this.statFields()[7]);
  }

  /**
   * Read and write system calls so far ({ reads, writes }), from /proc/<pid>/io: on a relay,
   * each write is one batch of frames leaving on one link, so the count does not depend on how
   * busy the machine is, unlike CPU time.
   */
  syscalls() {
    const io = readFileSync(`/proc/${this.pid}/io`, 'utf8');
    return { reads: Number(/^syscr:\s+(\d+)/m.exec(io)[1]), writes: Number(/^syscw:\s+(\d+)/m.exec(io)[1]) };
  }

  /** The fields of /proc/<pid>/stat after the command name (state is [0]). */
  statFields() {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  }

  /** SIGTERM to the process group, SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 8000) {
    if (!running.has(this)) return;
    try {
      process.kill(-this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children it forked (websockify) may outlive the leader: end the rest of the group too.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // none left
    }
  }
}

/** Starts `command args` as its own process group. */
export function start(name, command, args, env = {}) {
  return new Child(name, command, args, env);
}

/** Starts a Node script with this Node binary, with extra Node flags (e.g. --cpu-prof). */
export function startNode(name, args, nodeFlags = [], env = {}) {
  return new Child(name, process.execPath, [...nodeFlags, ...args], env);
}

/**
 * Starts `tether relay` (`args` = the CLI's path, 'relay' and its flags) as Tether starts it:
 * with the relay's Node flags (relay/src/node-flags.ts, as `npm start` and the image), then
 * `nodeFlags`.
 */
export function startRelayNode(name, args, nodeFlags = [], env = {}) {
  return startNode(name, args, [...RELAY_NODE_FLAGS, ...nodeFlags], env);
}

/**
 * Starts `tether share` (`args` = the CLI's path, 'share' and its flags) as `tether service
 * install`'s unit runs it: with the CLI's Node flags (extension/src/core/cli-node-flags.ts),
 * then `nodeFlags`. BENCH_SHARE_FLAGS=0 starts it as a plain `tether share` typed at a shell.
 */
export function startShareNode(name, args, nodeFlags = [], env = {}) {
  return startNode(name, args, [...(process.env.BENCH_SHARE_FLAGS === '0' ? [] : CLI_NODE_FLAGS), ...nodeFlags], env);
}

/** Kills whatever is still running, synchronously (process exit paths). */
export function killAll() {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/** A port that was free a moment ago (for programs that cannot report their own). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a TCP connection. */
export async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
