import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real redis-server processes for the Redis store's tests: bound to 127.0.0.1 on ports the
 * tests pick, files in a temporary folder, stopped by PID. A missing redis-server fails the
 * test loudly (CI installs the Debian package; see .ci/run), never skips it.
 */
export function requireRedis(): void {
  for (const program of ['redis-server', 'redis-cli']) {
    if (spawnSync(program, ['--version']).error) {
      throw new Error(`the Redis store's tests need ${program} on PATH (Debian package redis-server); .ci/run installs it with apt-get`);
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function cli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One redis-server process that can be stopped and started again on the same port. */
export class RedisProcess {
  private proc: ChildProcess | undefined;

  constructor(readonly port: number, private readonly dir: string, private readonly extraArgs: string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it; already running, nothing happens (a test's cleanup may start it again). */
  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let output = '';
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(`redis-server on port ${this.port} (output: ${output})`, () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${output}`);
      return cli(this.port, 'PING').trim() === 'PONG';
    });
  }

  /** SIGSTOP: the server keeps its connections open but answers nothing (a hung Redis). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Stops it by PID (SIGKILL: the harshest outage) and waits until it is gone. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }
}

export interface RedisFixture {
  servers: RedisProcess[];
  stop(): Promise<void>;
}

/**
 * Starts a server on a port freePort picked. Another process can take that port between the
 * pick and redis-server's bind (the kernel hands the same range out to every outgoing
 * connection), so a refused bind picks again, three times at most.
 */
async function startOnFreePort(make: (port: number) => Promise<RedisProcess>): Promise<RedisProcess> {
  for (let attempt = 1; ; attempt++) {
    const server = await make(await freePort());
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.stop();
      if (attempt >= 3 || !String((err as Error).message).includes('Address already in use')) throw err;
    }
  }
}

/** A standalone redis-server on a free port. */
export async function startRedis(): Promise<RedisFixture & { server: RedisProcess }> {
  requireRedis();
  const dir = mkdtempSync(join(tmpdir(), 'tether-redis-'));
  const server = await startOnFreePort(async (port) => new RedisProcess(port, dir));
  return {
    server,
    servers: [server],
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Six redis-server processes made into a Redis Cluster: three masters, one replica each. */
export async function startRedisCluster(): Promise<RedisFixture> {
  requireRedis();
  const dir = mkdtempSync(join(tmpdir(), 'tether-redis-cluster-'));
  const servers: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const server of servers) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const nodeDir = join(dir, String(i));
      mkdirSync(nodeDir);
      // The cluster bus gets a port of its own: by default it is the client port + 10000, which
      // nobody checked was free (a CI run failed on exactly that).
      const server = await startOnFreePort(async (port) => {
        // A try that failed to bind may have written its node's identity: start afresh.
        rmSync(join(nodeDir, 'nodes.conf'), { force: true });
        return new RedisProcess(port, nodeDir, [
          '--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-config-file', join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout', '2000', '--repl-diskless-sync-delay', '0',
        ]);
      });
      servers.push(server);
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await waitFor('cluster_state:ok on every node', () => servers.every((s) => cli(s.port, 'CLUSTER', 'INFO').includes('cluster_state:ok')));
    return { servers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
