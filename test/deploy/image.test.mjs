// The relay image of deploy/Dockerfile, built and run with podman (TESTING.md "Containers"):
// no registry here, so the base is a local debootstrap root file system with this machine's
// node (base-image.mjs), and the context is this already built workspace (BUILD=prebuilt).
// Fails, never skips, when podman or debootstrap is missing: `.ci/run` installs them.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BASE_IMAGE, ensureBaseImage, podman } from './base-image.mjs';
import { stagePrebuiltContext } from './stage-context.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IMAGE = 'localhost/tether-relay:test';
const NAME = `tether-deploy-test-${process.pid}`;
const ADMIN = 'deploy-test-admin-token-0123456789abcdef';
// Ulimits this VM's runc accepts (TESTING.md).
const RUN_FLAGS = ['--network=host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const tether = join(root, 'extension', 'bin', 'tether.js');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

async function waitFor(what, fn, ms = 20_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}\n${logs()}`);
}

/** A container's output: the URL line on stdout, pino's JSON lines on stderr. */
function logs(name = NAME) {
  const result = spawnSync('podman', ['logs', name], { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

async function ready() {
  return waitFor('/readyz', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    return res.ok && res.json();
  });
}

let port;
const timings = {};

before(async () => {
  for (const tool of ['podman', 'runc', 'debootstrap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: apt-get install podman runc debootstrap (.ci/run does)`);
    }
  }
  let t = Date.now();
  console.log(ensureBaseImage());
  timings.base = Date.now() - t;
  t = Date.now();
  const context = stagePrebuiltContext(root);
  try {
    podman(['build', '--format', 'docker', '--layers=false', ...RUN_FLAGS, '--build-arg', `BASE=${BASE_IMAGE}`, '--build-arg', 'BUILD=prebuilt',
      '-f', join(root, 'deploy', 'Dockerfile'), '-t', IMAGE, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  timings.build = Date.now() - t;
  port = await freePort();
  // The image's defaults as a user gets them (TETHER_HOST=0.0.0.0, /data), on a test port.
  podman(['run', '-d', '--name', NAME, '--no-healthcheck', ...RUN_FLAGS, '-e', `TETHER_PORT=${port}`, '-e', `TETHER_ADMIN_TOKEN=${ADMIN}`, IMAGE]);
});

after(() => {
  try {
    podman(['rm', '-f', '-t', '0', NAME]);
  } catch {
    // Not started.
  }
  // Every run builds a new image (the context is a fresh copy): removing it keeps the disk from
  // filling with untagged ones. --layers=false above leaves no intermediate stage images.
  try {
    podman(['rmi', IMAGE]);
  } catch {
    // Not built.
  }
  console.log(`timings: base image ${timings.base} ms, relay image build ${timings.build} ms, stop ${timings.stop} ms`);
});

test('the relay in the container answers /readyz and /healthz on its port', async () => {
  const body = await ready();
  assert.equal(body.status, 'ready');
  assert.equal(body.database, 'ok');
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
});

test("the image's HEALTHCHECK command passes against the running relay", () => {
  const config = JSON.parse(podman(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', IMAGE]));
  assert.equal(config.Test[0], 'CMD');
  // Run the same command inside the container (podman's own health timer needs systemd).
  podman(['exec', '-e', `TETHER_PORT=${port}`, NAME, ...config.Test.slice(1)]);
});

test('tether user create works against it with the admin token', () => {
  const out = execFileSync(process.execPath, [tether, 'user', 'create', 'alice', '--relay', `http://127.0.0.1:${port}`, '--token', ADMIN], { encoding: 'utf8' });
  assert.match(out, /^tth_/m);
  const list = execFileSync(process.execPath, [tether, 'user', 'list', '--relay', `http://127.0.0.1:${port}`, '--token', ADMIN], { encoding: 'utf8' });
  assert.match(list, /alice/);
});

test('the relay runs as uid 10001, not root, and writes its database to /data', () => {
  assert.equal(podman(['exec', NAME, 'id', '-u']).trim(), '10001');
  assert.equal(podman(['top', NAME, 'user']).split('\n')[1].trim(), 'tether');
  assert.match(podman(['exec', NAME, 'ls', '/data']), /\S/);
});

test('podman stop (SIGTERM) drains and exits 0 well within the grace period', async () => {
  // node is PID 1: a SIGTERM that arrives before the relay installed its handler is ignored
  // (PID 1 has no default action) and podman kills after -t; so stop a relay that is up.
  await ready();
  const t = Date.now();
  const stop = spawn('podman', ['--runtime', 'runc', '--cgroup-manager=cgroupfs', 'stop', '-t', '45', NAME], { stdio: 'ignore' });
  const code = await new Promise((resolve) => stop.on('exit', resolve));
  timings.stop = Date.now() - t;
  assert.equal(code, 0);
  const state = JSON.parse(podman(['inspect', '--format', '{{json .State}}', NAME]));
  assert.equal(state.ExitCode, 0, logs());
  assert.ok(timings.stop < 45_000, `took ${timings.stop} ms`);
  assert.match(logs(), /shutting down: GOAWAY sent/);
});

test('three containers of the image on one Redis form a cluster: a connector on container 2 reaches a host linked to container 1', async (t) => {
  const { startRedis } = await import('../../relay/dist/test-support/redis-server.js');
  const redis = await startRedis();
  const names = [];
  const procs = [];
  t.after(async () => {
    for (const p of procs) p.kill('SIGTERM');
    for (const name of names) {
      try {
        podman(['rm', '-f', '-t', '0', name]);
      } catch {
        // Not started.
      }
    }
    await redis.stop();
  });
  const secret = 'deploy-test-cluster-secret-0123456789';
  const ports = [await freePort(), await freePort(), await freePort()];
  for (const [i, p] of ports.entries()) {
    const name = `${NAME}-node${i + 1}`;
    names.push(name);
    podman(['run', '-d', '--name', name, '--no-healthcheck', ...RUN_FLAGS,
      '-e', `TETHER_PORT=${p}`, '-e', `TETHER_ADMIN_TOKEN=${ADMIN}`, '-e', `TETHER_REDIS_URL=${redis.server.url}`,
      '-e', `TETHER_CLUSTER_SECRET=${secret}`, '-e', `TETHER_NODE_ID=container-${i + 1}`, '-e', `TETHER_ADVERTISE_URL=http://127.0.0.1:${p}`, IMAGE]);
  }
  const url = (i) => `http://127.0.0.1:${ports[i]}`;
  for (const i of [0, 1, 2]) await waitFor(`container ${i + 1} /readyz`, async () => (await fetch(`${url(i)}/readyz`)).ok);
  const status = execFileSync(process.execPath, [tether, 'cluster', 'status', '--relay', url(2), '--token', ADMIN], { encoding: 'utf8' });
  assert.deepEqual(status.trimEnd().split('\n').map((l) => l.split('\t').slice(0, 2)), [0, 1, 2].map((i) => [`container-${i + 1}`, url(i)]));

  const token = execFileSync(process.execPath, [tether, 'user', 'create', 'carla', '--relay', url(0), '--token', ADMIN], { encoding: 'utf8' }).trim();
  const echo = createServer((s) => s.pipe(s).on('error', () => undefined)).listen(0, '127.0.0.1');
  t.after(() => echo.close());
  await new Promise((resolve) => echo.once('listening', resolve));
  const env = { ...process.env, TETHER_TOKEN: token };
  const share = spawn(process.execPath, [tether, 'share', 'box', '--target', `127.0.0.1:${echo.address().port}`, '--relay', url(0)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(share);
  const listen = await freePort();
  await waitFor('the share to be online', async () => execFileSync(process.execPath, [tether, 'tunnels', '--relay', url(1), '--token', token], { encoding: 'utf8' }).includes('box\tonline'));
  const connect = spawn(process.execPath, [tether, 'connect', 'box', '--listen', `127.0.0.1:${listen}`, '--relay', url(1)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(connect);
  const reply = await waitFor('an echo through container 2', () => new Promise((resolve) => {
    const socket = createConnection(listen, '127.0.0.1', () => socket.write('across the cluster'));
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.on('error', () => resolve(undefined));
  }));
  assert.equal(reply, 'across the cluster');
  const [one, two] = [0, 1].map((i) => logs(names[i]));
  assert.match(two, /peer link opened/);
  assert.match(one, /peer link accepted/);
});
