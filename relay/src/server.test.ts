import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { resolveAdminToken, startRelay, type RunningRelay, type StartRelayOptions } from './server.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-relay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: TestContext, options: StartRelayOptions): Promise<RunningRelay> {
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: false, ...options });
  t.after(() => relay.app.close());
  return relay;
}

test('startRelay generates DIR/admin-token (0600) and reuses it on the next start', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const first = await start(t, { dataDir });
  assert.equal(first.adminTokenGenerated, true);
  assert.equal(first.adminTokenFile, join(dataDir, 'admin-token'));
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(first.adminTokenFile).mode & 0o777, 0o600);
  const token = readFileSync(first.adminTokenFile, 'utf8').trim();
  assert.match(token, /^tth_/);
  assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const whoami = await fetch(`${first.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(await whoami.json(), { name: 'admin', admin: true });
  const created = await fetch(`${first.url}/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'alice' }),
  });
  assert.equal(created.status, 201);
  await first.app.close();

  const second = await start(t, { dataDir });
  assert.equal(second.adminTokenGenerated, false);
  assert.equal(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(), token);
  const users = await fetch(`${second.url}/v1/users`, { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual((await users.json() as { users: { name: string }[] }).users.map((u) => u.name), ['alice'], 'users persist in the data folder');
});

test('a given admin token is used as is and nothing is written', async (t) => {
  const dataDir = tempDir(t);
  const relay = await start(t, { dataDir, adminToken: 'a-long-enough-admin-token' });
  assert.deepEqual([relay.adminTokenFile, relay.adminTokenGenerated], [undefined, false]);
  const res = await fetch(`${relay.url}/v1/whoami`, { headers: { authorization: 'Bearer a-long-enough-admin-token' } });
  assert.equal(res.status, 200);
  assert.throws(() => statSync(join(dataDir, 'admin-token')), { code: 'ENOENT' });
});

test('startRelay refuses a bad configuration with TETHER_ERR_INVALID_CONFIG', async (t) => {
  const dir = tempDir(t);
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'x');
  const shortTokenDir = join(dir, 'short');
  await start(t, { dataDir: shortTokenDir, adminToken: 'a-long-enough-admin-token' });
  writeFileSync(join(shortTokenDir, 'admin-token'), 'short\n');
  const cases: [string, StartRelayOptions][] = [
    ['a short admin token', { dataDir: join(dir, 'd1'), adminToken: 'too-short' }],
    ['a short token in DIR/admin-token', { dataDir: shortTokenDir }],
    ['a data folder inside a file', { dataDir: join(aFile, 'data') }],
    ['bad limits', { dataDir: join(dir, 'd2'), limits: { maxStreamsPerConnection: 0 } }],
  ];
  for (const [name, options] of cases) {
    await assert.rejects(startRelay({ port: 0, logger: false, ...options }), { code: ErrorCode.INVALID_CONFIG }, name);
  }
});

test('listening on a busy port gives TETHER_ERR_ADDRESS_IN_USE, naming the port, and leaves the first relay serving', async (t) => {
  const first = await start(t, { dataDir: tempDir(t) });
  const port = Number(new URL(first.url).port);
  await assert.rejects(startRelay({ host: '127.0.0.1', port, dataDir: tempDir(t), logger: false }), {
    code: ErrorCode.ADDRESS_IN_USE,
    message: new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is already in use: .*--port`),
  });
  assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
});

test('resolveAdminToken prefers the given token', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'admin-token'), 'the-stored-admin-token\n');
  assert.equal(resolveAdminToken(dir, undefined).token, 'the-stored-admin-token');
  assert.equal(resolveAdminToken(dir, 'the-given-admin-token').token, 'the-given-admin-token');
});

test('an audit file gets every decision and event as JSON lines, and is closed with the relay', async (t) => {
  const dir = tempDir(t);
  const auditFile = join(dir, 'audit.jsonl');
  const relay = await start(t, { dataDir: join(dir, 'data'), adminToken: 'admin-token-0123456789', auditFile });
  assert.equal(relay.auditFile, auditFile);
  assert.equal((await fetch(`${relay.url}/v1/tunnels`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await fetch(`${relay.url}/v1/users`, { headers: { authorization: 'Bearer admin-token-0123456789' } })).status, 200);
  await relay.app.close();
  const events = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string; action: string });
  assert.deepEqual(events.map((e) => [e.code, e.action]), [['relay.started', 'relay.start'], ['auth.failed', 'GET /v1/tunnels'], ['access.granted', 'users.manage'], ['relay.stopped', 'relay.stop']]);
  assert.equal(statSync(auditFile).mode & 0o777, 0o600);
});

test('a data folder and files readable by others are made private; a shared folder is refused', async (t) => {
  const base = tempDir(t);
  const dataDir = join(base, 'loose');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, 'admin-token'), 'tth_loose-but-long-enough-token\n', { mode: 0o644 });
  chmodSync(join(dataDir, 'admin-token'), 0o644);
  const relay = await start(t, { dataDir });
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dataDir, 'tether.db')).mode & 0o777, 0o600);
  await relay.app.close();

  const shared = join(base, 'shared');
  mkdirSync(shared, { mode: 0o755 });
  chmodSync(shared, 0o755);
  writeFileSync(join(shared, 'notes.txt'), 'not ours');
  await assert.rejects(startRelay({ port: 0, logger: false, dataDir: shared }), (err: Error & { code?: string }) => err.code === ErrorCode.INVALID_CONFIG && /folder of its own/.test(err.message));
  assert.equal(statSync(shared).mode & 0o777, 0o755, 'never chmod-ed');
});

test('a data folder that cannot be created fails at once with INVALID_CONFIG (no endless mkdir under /proc)', async () => {
  for (const dataDir of ['/proc/tether-nope/data', '/dev/null/data']) {
    await assert.rejects(startRelay({ port: 0, logger: false, dataDir }), (err: Error & { code?: string }) => err.code === ErrorCode.INVALID_CONFIG && err.message.includes(dataDir));
  }
});
