// Real peers for the end-to-end suite: Debian's OpenSSH server, the relay and the `tether` CLI
// as separate processes, and the real `ssh` client. Every process is started through a
// `Processes` group and stopped by its PID; every file lives in a temporary folder.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, closeSync, constants, createReadStream, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// Compiled by `tsc -b`, which `npm run test:e2e` runs first.
import { SSHD, startSshd as startOpenSshd } from '../../extension/dist/test-support/sshd-fixture.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI; `npm run test:e2e` runs `tsc -b` first. */
export const CLI = join(ROOT, 'extension/dist/cli/main.js');
/** How long to wait for a process to say it is ready: a guard against hanging, not a threshold. */
const READY_TIMEOUT_MS = 20_000;
/** node:test option for each suite: a hung ssh fails its suite instead of the CI job. */
export const HANG_GUARD = { timeout: 300_000 };

/** Fails loudly (never skips) when a program the suite needs is missing. */
export function requirePrograms() {
  const missing = [];
  for (const [program, pkg] of [[SSHD, 'openssh-server'], ['/usr/bin/ssh', 'openssh-client'], ['/usr/bin/ssh-keygen', 'openssh-client'], ['/usr/bin/scp', 'openssh-client']]) {
    try {
      accessSync(program, constants.X_OK);
    } catch {
      missing.push(`${program} (Debian package ${pkg})`);
    }
  }
  try {
    accessSync(CLI, constants.R_OK);
  } catch {
    missing.push(`${CLI} (run 'npx tsc -b' first)`);
  }
  if (missing.length > 0) {
    throw new Error(`the end-to-end suite needs ${missing.join(', ')}; .ci/run installs them with apt-get`);
  }
}

/** A temporary folder removed by `dispose()`. */
export function tempDir(prefix = 'tether-e2e-') {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** An environment for child processes without the caller's Tether settings. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  // TETHER_DEBUG (a trace of stream moves) is kept: it changes nothing but what is logged.
  for (const key of Object.keys(env)) if ((key.startsWith('TETHER_') && key !== 'TETHER_DEBUG') || key === 'SSH_AUTH_SOCK') delete env[key];
  return { ...env, ...extra };
}

/** A port that was free a moment ago on 127.0.0.1 (for programs that cannot take port 0). */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Collects a child's output and resolves when a line matching `pattern` appears on `which`. */
class Output {
  constructor(stream) {
    this.text = '';
    this.waiters = [];
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      this.text += chunk;
      this.waiters = this.waiters.filter((w) => !w.check());
    });
  }

  /** Resolves with the first line matching `pattern`; rejects if `exited` settles first. */
  waitFor(pattern, exited, what) {
    return new Promise((resolveLine, reject) => {
      const waiter = {
        check: () => {
          // Complete lines only: a line still being written could match too early.
          const line = this.text.split('\n').slice(0, -1).find((l) => pattern.test(l));
          if (line === undefined) return false;
          clearTimeout(timer);
          resolveLine(line);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${what}: no line matching ${pattern} within ${READY_TIMEOUT_MS} ms; output so far:\n${this.text}`));
      }, READY_TIMEOUT_MS);
      if (waiter.check()) return;
      this.waiters.push(waiter);
      const gone = (why) => {
        if (waiter.check()) return;
        clearTimeout(timer);
        reject(new Error(`${what} ${why} before printing a line matching ${pattern}; output:\n${this.text}`));
      };
      exited.then((code) => gone(`exited (${code})`), (err) => gone(`failed to start (${err.message})`));
    });
  }
}

/** Children started by `run()` that have not exited yet (ssh, scp, the CLI's one-shot commands). */
const oneShots = new Set();

/** A group of child processes, each stopped by its own PID. */
export class Processes {
  constructor() {
    this.children = new Set();
    this.deferred = [];
  }

  /** Runs `stop` (a fixture's own stop) in `stopAll()`. */
  defer(stop) {
    this.deferred.push(stop);
  }

  /**
   * Starts a long-running child. Returns `{ child, pid, stdout, stderr, exited, waitFor }`;
   * `exited` resolves with the exit code (or the signal name).
   */
  start(command, args, options = {}) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    const exited = new Promise((resolveExit, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolveExit(code ?? signal));
    });
    exited.catch(() => undefined);
    const stdout = new Output(child.stdout);
    const stderr = new Output(child.stderr);
    const name = `${command} ${args[0] ?? ''}`.trim();
    const proc = {
      child,
      pid: child.pid,
      stdout,
      stderr,
      exited,
      waitFor: (stream, pattern) => (stream === 'stdout' ? stdout : stderr).waitFor(pattern, exited, name),
    };
    this.children.add(proc);
    const forget = () => this.children.delete(proc);
    exited.then(forget, forget);
    return proc;
  }

  /** Sends `signal` to one child by PID and waits for it to exit (SIGKILL if it lingers). */
  async stop(proc, signal = 'SIGTERM') {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
    try {
      process.kill(proc.pid, signal);
    } catch {
      return proc.exited;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 10_000);
    try {
      return await proc.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops every child still running, each by its PID, and any one-shot command a failed or
   * timed-out test left behind.
   */
  async stopAll() {
    for (const child of oneShots) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await Promise.all([...this.children].map((proc) => this.stop(proc)));
    await Promise.all(this.deferred.splice(0).map((stop) => stop()));
  }
}

/**
 * Runs a command to completion. `input` is a file path opened as the child's stdin (the
 * child reads it directly, as with `cmd < file`). Returns `{ code, stdout, stderr, sha256 }`, where `sha256` is the
 * hash of everything on stdout and `stdout` is kept only when `keepStdout` (the default).
 */
export function run(command, args, { env, input, keepStdout = true } = {}) {
  return new Promise((resolveRun, reject) => {
    const stdin = input === undefined ? 'ignore' : openSync(input, 'r');
    let child;
    try {
      child = spawn(command, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
    } finally {
      if (typeof stdin === 'number') closeSync(stdin);
    }
    oneShots.add(child);
    const hash = createHash('sha256');
    const out = [];
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      hash.update(chunk);
      if (keepStdout) out.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', (err) => {
      oneShots.delete(child);
      reject(err);
    });
    child.once('close', (code, signal) => {
      oneShots.delete(child);
      resolveRun({ code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr, sha256: hash.digest('hex') });
    });
  });
}

/**
 * Resolves once something accepts connections on the Unix socket `path` (an agent that has
 * started); rejects if `exited` settles first or nothing listens within `timeoutMs` (a guard
 * against hanging, not a threshold).
 */
export async function waitForSocket(path, exited, timeoutMs = 20_000) {
  let gone = false;
  exited.then(() => (gone = true), () => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((done) => {
      const socket = net.connect(path);
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (ok) return;
    if (gone) throw new Error(`the process exited before listening on ${path}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes `bytes` random bytes to `file` and returns their SHA-256. */
export async function randomFile(file, bytes) {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let left = bytes; left > 0;) {
    const chunk = randomBytes(Math.min(left, 1 << 20));
    hash.update(chunk);
    left -= chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** SHA-256 of a file, streamed. */
export async function sha256File(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Debian's OpenSSH server on 127.0.0.1 with its own config, host key and authorized key in
 * `dir`: the repository's one sshd fixture (extension/src/test-support/sshd-fixture.ts, the
 * unit tests' too), stopped with the rest of `procs`. Returns `{ port, key, hostKeyPub, sshd }`:
 * `key` is the client's private key file, `hostKeyPub` the server's public host key file.
 */
export async function startSshd(procs, dir) {
  const sshd = await startOpenSshd({ dir });
  procs.defer(() => sshd.stop());
  return { port: sshd.port, key: sshd.clientKey, hostKeyPub: sshd.hostKeyPub, sshd };
}

/**
 * `tether relay` as a process on 127.0.0.1, port 0, at its default log level. Its first line
 * on stdout must be the URL (scripts read it; https:// with --tls-cert/--tls-key). Returns `{ url, adminToken, proc, dataDir }`.
 * Several relays may share one `dataDir` (one SQLite file: the same tokens work on each), and a
 * relay restarted with the same `port` comes back at the same URL. `args` are more flags and
 * `env` more variables; `adminToken`, when given, is passed as TETHER_ADMIN_TOKEN and returned
 * instead of the data folder's (a relay on Redis needs it given).
 */
export async function startRelay(procs, dir, { dataDir = join(dir, 'relay-data'), port = 0, args = [], env = {}, adminToken } = {}) {
  const proc = procs.start(process.execPath, [CLI, 'relay', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir, ...args], {
    env: cleanEnv({ ...env, ...(adminToken && { TETHER_ADMIN_TOKEN: adminToken }) }),
  });
  const url = await proc.waitFor('stdout', /^/);
  if (!/^https?:\/\/127\.0\.0\.1:\d+$/.test(url) || !proc.stdout.text.startsWith(`${url}\n`)) {
    await procs.stop(proc);
    throw new Error(`tether relay: the first line on stdout should be its URL; stdout was:\n${proc.stdout.text}`);
  }
  return { url, adminToken: adminToken ?? readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(), proc, dataDir };
}

/** Runs `tether ARGS` to completion with TETHER_RELAY/TETHER_TOKEN set. */
export function tether(args, { relay, token, input } = {}) {
  return run(process.execPath, [CLI, ...args], { env: cleanEnv({ ...(relay && { TETHER_RELAY: relay }), ...(token && { TETHER_TOKEN: token }) }), input });
}

/** `tether user create NAME`: returns the user's token. */
export async function createUser(relay, name) {
  const r = await tether(['user', 'create', name], { relay: relay.url, token: relay.adminToken });
  if (r.code !== 0) throw new Error(`tether user create ${name} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * `tether share NAME --target 127.0.0.1:PORT` as a process, ready once it prints "Sharing".
 * `env`: more variables (NODE_EXTRA_CA_CERTS for a relay with a self-signed certificate).
 */
export async function startShare(procs, { url, token, tunnel, targetPort, args = [], env = {} }) {
  const proc = procs.start(process.execPath, [CLI, 'share', tunnel, '--target', `127.0.0.1:${targetPort}`, ...args], { env: cleanEnv({ ...env, TETHER_RELAY: url, TETHER_TOKEN: token }) });
  await proc.waitFor('stderr', /^Sharing /);
  return proc;
}

/** `tether connect NAME --listen 127.0.0.1:PORT` as a process, ready once it prints "Listening on". */
export async function startConnect(procs, { url, token, tunnel, args = [] }) {
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const proc = procs.start(process.execPath, [CLI, 'connect', tunnel, '--listen', `127.0.0.1:${port}`, ...args], { env: cleanEnv({ TETHER_RELAY: url, TETHER_TOKEN: token }) });
    try {
      await proc.waitFor('stderr', /^Listening on /);
      return { port, proc };
    } catch (err) {
      lastError = err;
      await procs.stop(proc);
    }
  }
  throw lastError;
}

/** Options for the real ssh/scp clients: no user config, no known_hosts, key only, no prompts. */
export function sshOptions({ key, proxyTunnel }) {
  const options = [
    '-F', '/dev/null',
    '-i', key,
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=error',
  ];
  if (proxyTunnel !== undefined) options.push('-o', `ProxyCommand=${process.execPath} ${CLI} proxy ${proxyTunnel}`);
  return options;
}

/** `ssh -p PORT … root@127.0.0.1 COMMAND`, optionally through `tether proxy TUNNEL`. */
export function ssh({ port, key, proxyTunnel, relay, token }, command, { input, keepStdout } = {}) {
  const env = cleanEnv({ ...(relay && { TETHER_RELAY: relay }), ...(token && { TETHER_TOKEN: token }) });
  return run('/usr/bin/ssh', ['-p', String(port), ...sshOptions({ key, proxyTunnel }), 'root@127.0.0.1', command], { env, input, keepStdout });
}

/** `scp -P PORT … FROM TO` through `tether proxy TUNNEL`. */
export function scp({ port, key, proxyTunnel, relay, token }, from, to) {
  const env = cleanEnv({ ...(relay && { TETHER_RELAY: relay }), ...(token && { TETHER_TOKEN: token }) });
  return run('/usr/bin/scp', ['-q', '-P', String(port), ...sshOptions({ key, proxyTunnel }), from, to], { env });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value (a guard against hanging, not a threshold). */
export async function until(check, what, timeoutMs = 60_000, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await pause(everyMs);
  }
}

/** An echo server on 127.0.0.1: the service the tunnel shares. */
export async function echoServer() {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Sends `bytes` through the local listener of `tether connect` and resolves once all came back. */
export async function echoThrough(port, bytes) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let received = 0;
  const done = new Promise((resolve, reject) => {
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received >= bytes) resolve();
    });
    socket.once('close', () => (received >= bytes ? resolve() : reject(new Error(`closed after ${received} of ${bytes} bytes`))));
  });
  socket.end(Buffer.alloc(bytes, 7));
  await done;
  socket.destroy();
  return received;
}
