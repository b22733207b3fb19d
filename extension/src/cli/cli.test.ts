import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp, RELAY_NODE_FLAGS, type RelayApp } from '@tether/relay';
import { ErrorCode, isTetherError, type ErrorCodeString } from '@tether/shared';
import { RelayApi } from '../core/index.js';
import type { PoolStateJson } from './status-command.js';
import { closedPort, listening } from '../test-support/testing.js';
import { poolOptions, relayAndToken, relayEndpointsAndToken, resumableOptions } from './options.js';

const MAIN = path.join(__dirname, 'main.js');
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The environment without the user's own relay settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['TETHER_RELAY', 'TETHER_TOKEN', 'TETHER_PORT', 'TETHER_HOST', 'TETHER_DATA', 'TETHER_ADMIN_TOKEN']) delete env[key];
  return env;
}

interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the CLI to completion, feeding `input` on stdin. */
async function tether(args: string[], input?: Buffer, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.on('error', () => undefined); // the CLI may exit before reading everything
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

/** Asserts the one-line coded failure the CLI promises. */
function assertFails(result: Result, code: ErrorCodeString): void {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`^tether: .+ \\[${code}\\]$`, 'm'));
}

/** Starts a long-running CLI command; resolves once `ready(stderr)` holds. */
async function start(args: string[], ready: (stderr: string) => boolean): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout?.resume();
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (ready(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tether ${args[0]} exited with ${code}: ${stderr}`)));
  });
  return { child, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  return (await exited)[0];
}

describe('tether CLI without a relay', () => {
  test('no arguments: usage on stdout, exit 2', async () => {
    const result = await tether([]);
    assert.equal(result.code, 2);
    assert.match(result.stdout.toString(), /^Usage: tether/);
  });

  test('help: usage, exit 0', async () => {
    const result = await tether(['help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /^ {2}proxy <name> /m);
  });

  const usageErrors: [what: string, args: string[], line: RegExp][] = [
    ['an unknown command', ['frobnicate'], /^tether: unknown command "frobnicate"$/m],
    ['an unknown flag', ['tunnels', '--token', 't', '--bogus'], /^tether: .*--bogus/m],
    ['a missing token', ['tunnels', '--relay', 'http://127.0.0.1:9'], /^tether: no token: .*--token.*TETHER_TOKEN/m],
    ['a missing tunnel name', ['proxy', '--token', 't'], /^tether: missing tunnel name$/m],
    ['an extra argument', ['proxy', 'a', 'b', '--token', 't'], /^tether: unexpected argument "b"$/m],
    ['a bad relay port', ['relay', '--port', '70000'], /^tether: --port must be 0-65535/m],
    ['a --limit that is not NAME=N', ['relay', '--limit', 'maxLinksPerUser'], /^tether: --limit takes NAME=INTEGER/m],
  ];
  for (const [what, args, line] of usageErrors) {
    test(`${what}: exit 2 with a clear line`, async () => {
      const result = await tether(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, line);
    });
  }

  test('a --limit the relay does not have: exit 1 with INVALID_CONFIG, before anything is written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-limit-'));
    try {
      assertFails(await tether(['relay', '--port', '0', '--data', dir, '--limit', 'maxNothing=5']), ErrorCode.INVALID_CONFIG);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an invalid tunnel name: exit 1 with its code', async () => {
    assertFails(await tether(['share', 'Bad_Name', '--token', 't', '--relay', 'http://127.0.0.1:9']), ErrorCode.INVALID_TUNNEL_NAME);
  });

  test('an invalid --target: exit 1 with its code', async () => {
    assertFails(await tether(['share', 'box', '--target', 'nowhere', '--token', 't']), ErrorCode.INVALID_ARGUMENT);
  });

  test('a relay that is not there: exit 1 with RELAY_UNREACHABLE', async () => {
    const relay = `http://127.0.0.1:${await closedPort()}`;
    assertFails(await tether(['tunnels', '--relay', relay, '--token', 't']), ErrorCode.RELAY_UNREACHABLE);
    assertFails(await tether(['proxy', 'box', '--relay', relay, '--token', 't']), ErrorCode.RELAY_UNREACHABLE);
  });
});

describe('tether CLI against a relay it started', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tether-cli-'));
  const children: ChildProcess[] = [];
  const echo = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  let relayChild: ChildProcess;
  let url = '';
  let admin = '';
  const tokens: Record<string, string> = {};
  const as = (user: string): string[] => ['--relay', url, '--token', tokens[user]];

  /** `tether share`, returning once the relay sees the tunnel online. */
  async function share(user: string, tunnel: string, target: string): Promise<ChildProcess> {
    const { child } = await start(['share', tunnel, '--target', target, ...as(user)], (s) => s.includes(`as tunnel ${tunnel}`));
    children.push(child);
    const api = new RelayApi(url, tokens[user]);
    while (!(await api.tunnel(tunnel)).online) await new Promise((r) => setTimeout(r, 10));
    return child;
  }

  before(async () => {
    const echoPort = await listening(echo);
    relayChild = spawn(process.execPath, [MAIN, 'relay', '--port', '0', '--data', dataDir, '--log-level', 'silent'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    relayChild.stderr?.resume();
    let out = '';
    url = await new Promise<string>((resolve, reject) => {
      relayChild.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      relayChild.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    });
    admin = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    tokens.admin = admin;
    for (const name of ['alice', 'bob']) {
      const result = await tether(['user', 'create', name, '--relay', url, '--token', admin]);
      assert.equal(result.code, 0, result.stderr);
      tokens[name] = result.stdout.toString().trim();
    }
    await share('alice', 'alice-echo', `127.0.0.1:${echoPort}`);
    await share('alice', 'alice-closed', `127.0.0.1:${await closedPort()}`);
  });

  after(async () => {
    await Promise.all(children.map(stop));
    if (relayChild) await stop(relayChild);
    echo.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the relay prints its URL first', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('user create prints a token that works', async () => {
    assert.match(tokens.alice, /^\S{16,}$/);
    assert.notEqual(tokens.alice, tokens.bob);
    const listed = await tether(['tunnels', ...as('alice')]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.toString().trim().split('\n').sort();
    assert.deepEqual(lines, ['alice-closed\tonline\talice\towner', 'alice-echo\tonline\talice\towner']);
  });

  test('tunnel delete releases a name that is not being shared, and refuses one that is', async () => {
    assertFails(await tether(['tunnel', 'delete', 'alice-echo', ...as('alice')]), ErrorCode.TUNNEL_IN_USE);
    assertFails(await tether(['tunnel', 'delete', 'alice-echo', ...as('bob')]), ErrorCode.TUNNEL_UNKNOWN);
    // Bob shares a name once, then stops: the name stays his until he deletes it.
    const bobs = await share('bob', 'bob-gone', '127.0.0.1:9');
    await stop(bobs);
    const api = new RelayApi(url, tokens.bob);
    while ((await api.tunnel('bob-gone')).online) await new Promise((r) => setTimeout(r, 10));
    const deleted = await tether(['tunnel', 'delete', 'bob-gone', ...as('bob')]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr.toString(), /Deleted tunnel bob-gone/);
    assertFails(await tether(['tunnel', 'delete', 'bob-gone', ...as('bob')]), ErrorCode.TUNNEL_UNKNOWN);
    assert.equal((await tether(['tunnel', 'rename', 'x', ...as('bob')])).code, 2, 'an unknown action is a usage error');
  });

  test('a second relay on the same port: exit 1 with ADDRESS_IN_USE, naming the port', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-busy-'));
    try {
      const port = new URL(url).port;
      const result = await tether(['relay', '--port', port, '--data', dir]);
      assertFails(result, ErrorCode.ADDRESS_IN_USE);
      assert.match(result.stderr, new RegExp(`^tether: port ${port} on 127\\.0\\.0\\.1 is already in use: .*--port`, 'm'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('user list and user token', async () => {
    const list = await tether(['user', 'list', ...as('admin')]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.toString().trim().split('\n').map((l) => l.split('\t')[0]).sort(), ['alice', 'bob']);
    assertFails(await tether(['user', 'list', ...as('alice')]), ErrorCode.FORBIDDEN);
  });

  test('user token replaces a token; user delete removes the user (options before the action work too)', async () => {
    const created = await tether(['user', 'create', 'frank', ...as('admin')]);
    assert.equal(created.code, 0, created.stderr);
    const old = created.stdout.toString().trim();
    const rotated = await tether(['user', '--relay', url, '--token', admin, 'token', 'frank']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stderr, /^New token for frank \(the old one no longer works\):$/m);
    const fresh = rotated.stdout.toString().trim();
    assert.notEqual(fresh, old);
    assertFails(await tether(['tunnels', '--relay', url, '--token', old]), ErrorCode.UNAUTHORIZED);
    assert.equal((await tether(['tunnels', '--relay', url, '--token', fresh])).code, 0);
    const deleted = await tether(['user', 'delete', 'frank', ...as('admin')]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, /^Deleted user frank$/m);
    assertFails(await tether(['tunnels', '--relay', url, '--token', fresh]), ErrorCode.UNAUTHORIZED);
  });

  test('tunnels with nothing to list: nothing on stdout, a hint on stderr', async () => {
    const created = await tether(['user', 'create', 'dave', ...as('admin')]);
    assert.equal(created.code, 0, created.stderr);
    const listed = await tether(['tunnels', '--relay', url, '--token', created.stdout.toString().trim()]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.length, 0);
    assert.equal(listed.stderr, "No tunnels yet: share one with 'tether share NAME'\n");
  });

  const failures: [what: string, args: () => string[], code: ErrorCodeString][] = [
    ['a bad token', () => ['tunnels', '--relay', url, '--token', 'not-a-real-token'], ErrorCode.UNAUTHORIZED],
    ['proxy to an unknown tunnel', () => ['proxy', 'nosuch', ...as('alice')], ErrorCode.TUNNEL_UNKNOWN],
    ["proxy to another user's tunnel (told as unknown)", () => ['proxy', 'alice-echo', ...as('bob')], ErrorCode.TUNNEL_UNKNOWN],
    ['proxy to a tunnel whose target port is closed', () => ['proxy', 'alice-closed', ...as('alice')], ErrorCode.TARGET_REFUSED],
    ["connect to another user's tunnel (told as unknown)", () => ['connect', 'alice-echo', '--listen', '127.0.0.1:0', ...as('bob')], ErrorCode.TUNNEL_UNKNOWN],
    ['sharing a tunnel already shared', () => ['share', 'alice-echo', '--target', '127.0.0.1:9', ...as('alice')], ErrorCode.TUNNEL_IN_USE],
  ];
  for (const [what, args, code] of failures) {
    test(`${what}: exit 1 with ${code}`, async () => {
      assertFails(await tether(args()), code);
    });
  }

  test('connect --listen on a busy port: exit 1 with a clear line', async () => {
    const busy = net.createServer();
    const port = await listening(busy);
    try {
      const result = await tether(['connect', 'alice-echo', '--listen', `127.0.0.1:${port}`, ...as('alice')]);
      assertFails(result, ErrorCode.ADDRESS_IN_USE);
      assert.equal(result.stderr, `tether: port ${port} on 127.0.0.1 is already in use: stop the other process, or pick another port [TETHER_ERR_ADDRESS_IN_USE]\n`);
    } finally {
      busy.close();
    }
  });

  test('share + proxy carry bytes to the target and back', async () => {
    const data = randomBytes(1024 * 1024 + 3);
    const result = await tether(['proxy', 'alice-echo', ...as('alice')], data);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, data.length);
    assert.equal(sha256(result.stdout), sha256(data));
  });

  test('connect --listen carries local connections through the tunnel', async () => {
    const { child, stderr } = await start(['connect', 'alice-echo', '--listen', '127.0.0.1:0', ...as('alice')], (s) => /Listening on 127\.0\.0\.1:\d+/.test(s));
    children.push(child);
    const port = Number(/Listening on 127\.0\.0\.1:(\d+)/.exec(stderr())?.[1]);
    const data = randomBytes(300 * 1024);
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const got = createHash('sha256');
    socket.on('data', (c: Buffer) => got.update(c));
    socket.end(data);
    await once(socket, 'end');
    socket.destroy();
    assert.equal(got.digest('hex'), sha256(data));
    assert.equal(await stop(child), 0);
  });

  test('share stops cleanly on SIGTERM and the tunnel goes offline', async () => {
    const child = await share('alice', 'alice-brief', '127.0.0.1:9');
    assert.equal(await stop(child), 0);
    const api = new RelayApi(url, tokens.alice);
    assert.equal((await api.tunnel('alice-brief')).online, false);
  });
});

describe('tether relay output', () => {
  /** Starts `tether relay` with `args`; resolves with its stdout URL line and stderr so far once it listens. */
  async function relay(args: string[], env: NodeJS.ProcessEnv = {}, nodeFlags: readonly string[] = []): Promise<{ url: string; stderr: () => string; child: ChildProcess }> {
    const child = spawn(process.execPath, [...nodeFlags, MAIN, 'relay', '--port', '0', ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
      child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${stderr}`)));
    });
    return { url, stderr: () => stderr, child };
  }

  const dirs: string[] = [];
  const dataDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-relay-out-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('on every interface: a URL clients can use, here and from other machines; JSON logs when stderr is not a terminal', async () => {
    const { url, stderr, child } = await relay(['--host', '0.0.0.0', '--data', dataDir()]);
    try {
      while (!stderr().includes('Clients on other machines')) await new Promise((r) => setTimeout(r, 10));
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const port = new URL(url).port;
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.match(stderr(), new RegExp(`^Tether relay listening on http://0\\.0\\.0\\.0:${port} \\(every interface\\)$`, 'm'));
      assert.match(stderr(), new RegExp(`^  export TETHER_RELAY=http://127\\.0\\.0\\.1:${port} TETHER_TOKEN=`, 'm'));
      assert.match(stderr(), new RegExp(`^Clients on other machines use this machine's address, e\\.g\\. TETHER_RELAY=http://${hostname()}:${port}$`, 'm'));
      assert.doesNotMatch(stderr(), /0\.0\.0\.0.*TETHER_RELAY|TETHER_RELAY=http:\/\/0\.0\.0\.0/);
      const logs = stderr().split('\n').filter((line) => line.startsWith('{'));
      assert.ok(logs.some((line) => (JSON.parse(line) as { msg?: string }).msg?.startsWith('Server listening at')), stderr());
    } finally {
      assert.equal(await stop(child), 0, stderr());
    }
  });

  test('--log-format pretty (or TETHER_LOG_FORMAT): one readable line per log entry', async () => {
    for (const [args, env] of [[['--log-format', 'pretty'], {}], [[], { TETHER_LOG_FORMAT: 'pretty' }]] as const) {
      const { url, stderr, child } = await relay([...args, '--data', dataDir()], env);
      try {
        // stderr is a pipe of its own: the log line may arrive after the URL on stdout.
        while (!stderr().includes('Tether relay listening')) await new Promise((r) => setTimeout(r, 10));
        assert.match(stderr(), new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: Server listening at ${url.replace(/\./g, '\\.')}$`, 'm'));
        assert.doesNotMatch(stderr(), /^\{/m);
      } finally {
        assert.equal(await stop(child), 0, stderr());
      }
    }
  });

  test('a relay started without its Node flags says so, and what to do; started with them it does not', async () => {
    const hint = new RegExp(`^Node was started without ${RELAY_NODE_FLAGS.join(' ')}: .*docs/relay\\.md, "Node flags"`, 'm');
    for (const flags of [[], RELAY_NODE_FLAGS]) {
      const { stderr, child } = await relay(['--data', dataDir(), '--log-level', 'silent'], {}, flags);
      try {
        while (!stderr().includes('Admin token')) await new Promise((r) => setTimeout(r, 10));
        if (flags.length === 0) assert.match(stderr(), hint);
        else assert.doesNotMatch(stderr(), hint);
      } finally {
        assert.equal(await stop(child), 0, stderr());
      }
    }
  });
});

describe('relay options', () => {
  /** Runs `fn` with TETHER_RELAY/TETHER_TOKEN set as given (unset when undefined). */
  function withEnv<T>(env: { TETHER_RELAY?: string; TETHER_TOKEN?: string }, fn: () => T): T {
    const saved = { TETHER_RELAY: process.env.TETHER_RELAY, TETHER_TOKEN: process.env.TETHER_TOKEN };
    const set = (key: 'TETHER_RELAY' | 'TETHER_TOKEN', value: string | undefined): void => {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    };
    set('TETHER_RELAY', env.TETHER_RELAY);
    set('TETHER_TOKEN', env.TETHER_TOKEN);
    try {
      return fn();
    } finally {
      set('TETHER_RELAY', saved.TETHER_RELAY);
      set('TETHER_TOKEN', saved.TETHER_TOKEN);
    }
  }

  test('every --relay is an endpoint, in the order given', () => {
    const { endpoints, token } = withEnv({ TETHER_RELAY: 'http://ignored.example' }, () =>
      relayEndpointsAndToken({ relay: ['http://a.example', 'wss://b.example,weight=2'], token: 't' }));
    assert.equal(token, 't');
    assert.deepEqual(endpoints, [
      { url: 'http://a.example', priority: 0, weight: 1 },
      { url: 'https://b.example', priority: 1, weight: 2 },
    ]);
  });

  test('TETHER_RELAY may list several endpoints separated by whitespace; the default is the local relay', () => {
    const fromEnv = withEnv({ TETHER_RELAY: ' http://a.example\n http://b.example,priority=0 ', TETHER_TOKEN: 'env' }, () => relayEndpointsAndToken({}));
    assert.deepEqual(fromEnv.endpoints.map((e) => [e.url, e.priority]), [['http://a.example', 0], ['http://b.example', 0]]);
    assert.equal(fromEnv.token, 'env');
    assert.deepEqual(withEnv({}, () => relayAndToken({ token: 't' })), { relay: 'http://127.0.0.1:8080', token: 't' });
    assert.deepEqual(withEnv({}, () => relayAndToken({ relay: ['a.example:81', 'b.example'], token: 't' })), { relay: 'http://a.example:81', token: 't' });
  });

  test('a bad endpoint is INVALID_ARGUMENT; no token is a usage error', () => {
    assert.throws(() => withEnv({}, () => relayEndpointsAndToken({ relay: ['http://a.example,weight=0'], token: 't' })), (err: unknown) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
    assert.throws(() => withEnv({}, () => relayEndpointsAndToken({ relay: ['http://a.example'] })), /no token/);
  });

  test('pool flags become pool options; bad ones are usage errors', () => {
    assert.deepEqual(poolOptions({}), {});
    assert.deepEqual(poolOptions({ pool: '3', 'detect-ms': '1500', 'failback-ms': '0', 'queue-timeout-ms': '2000' }), {
      size: 3,
      detectMs: 1500,
      failbackDelayMs: 0,
      queueTimeoutMs: 2000,
    });
    for (const values of [{ pool: '0' }, { 'detect-ms': '50' }, { 'queue-timeout-ms': 'soon' }, { 'failback-ms': '-1' }]) {
      assert.throws(() => poolOptions(values), (err: unknown) => err instanceof Error && err.name === 'UsageError', JSON.stringify(values));
    }
  });
});

describe('tether status', () => {
  const adminToken = 'admin-token-for-status-tests';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tether-status-'));
  const relays: RelayApp[] = [];
  const urls: string[] = [];
  let token = '';
  let closed = '';

  before(async () => {
    // Two relays over one SQLite file, as two instances behind one name would be.
    for (let i = 0; i < 2; i++) {
      const relay = await buildApp({ databaseFile: path.join(dataDir, 'tether.db'), adminToken, logger: false });
      urls.push(await relay.app.listen({ host: '127.0.0.1', port: 0 }));
      relays.push(relay);
    }
    token = (await new RelayApi(urls[0], adminToken).createUser('carol')).token;
    closed = `http://127.0.0.1:${await closedPort()}`;
  });

  after(async () => {
    await Promise.all(relays.map((r) => r.app.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints the active relay and every endpoint; exit 0 while one is up', async () => {
    const result = await tether(['status', '--relay', closed, '--relay', urls[0], '--relay', `${urls[1]},weight=2`, '--token', token]);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout.toString();
    assert.match(out, new RegExp(`^active: ${urls[0]} \\(failover: ${closed} down \\(TETHER_ERR_RELAY_UNREACHABLE\\), since `));
    assert.match(out, new RegExp(`^${closed} +0 +1 +down +- .*\\[TETHER_ERR_RELAY_UNREACHABLE\\]`, 'm'));
    assert.match(out, new RegExp(`^${urls[0]} +1 +1 +up +\\d+(\\.\\d)? ms`, 'm'));
    assert.match(out, new RegExp(`^${urls[1]} +2 +2 +up `, 'm'));
  });

  test('--json prints the pool state; TETHER_RELAY lists endpoints too', async () => {
    const result = await tether(['status', '--json', '--token', token], undefined, { TETHER_RELAY: `${urls[1]},priority=0 ${urls[0]},priority=5` });
    assert.equal(result.code, 0, result.stderr);
    const state = JSON.parse(result.stdout.toString()) as PoolStateJson;
    assert.equal(state.active, urls[1]);
    assert.equal(state.reason, 'preferred');
    assert.deepEqual(state.endpoints.map((e) => [e.url, e.priority, e.state]), [[urls[1], 0, 'up'], [urls[0], 5, 'up']]);
    assert.ok(state.endpoints.every((e) => e.rttMs > 0));
  });

  test('no endpoint up: the table, then exit 1 with the most telling error', async () => {
    const down = await tether(['status', '--relay', closed, '--token', token]);
    assertFails(down, ErrorCode.RELAY_UNREACHABLE);
    assert.match(down.stdout.toString(), /^active: none \(no relay\)$/m);
    assertFails(await tether(['status', '--relay', closed, '--relay', urls[0], '--token', 'not-a-token']), ErrorCode.UNAUTHORIZED);
  });

  test('the same relay twice: exit 1 with INVALID_ARGUMENT', async () => {
    assertFails(await tether(['status', '--relay', urls[0], '--relay', `${urls[0]}/`, '--token', token]), ErrorCode.INVALID_ARGUMENT);
  });

  test('--watch prints every change until it is stopped', async () => {
    const child = spawn(process.execPath, [MAIN, 'status', '--watch', '--json', '--relay', urls[0], '--relay', urls[1], '--token', token], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const states: PoolStateJson[] = [];
    let buffered = '';
    const seen = (check: (s: PoolStateJson) => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const look = (): boolean => {
          if (!states.some(check)) return false;
          resolve();
          return true;
        };
        if (look()) return;
        child.stdout.on('data', () => look());
        child.once('exit', (code) => reject(new Error(`status --watch exited with ${code}`)));
      });
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) states.push(JSON.parse(line) as PoolStateJson);
    });
    try {
      await seen((s) => s.live === 2);
      // The second relay goes away: the watcher sees it leave.
      await relays[1].app.close();
      await seen((s) => s.live === 1 && s.endpoints[1].state !== 'up');
    } finally {
      assert.equal(await stop(child), 0);
    }
  });
});

test('--no-resume asks for plain streams; the resume flags become stream options', () => {
  assert.equal(resumableOptions({ 'no-resume': true }), false);
  assert.deepEqual(resumableOptions({ 'replay-buffer': '1048576', 'resume-timeout-ms': '5000' }), { replayBufferBytes: 1048576, resumeTimeoutMs: 5000 });
  assert.throws(() => resumableOptions({ 'replay-buffer': '100' }), /--replay-buffer must be an integer of at least 65536/);
});
