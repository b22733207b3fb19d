import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ErrorCode } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, openLink, type TestRelay } from '../test-support/testing.js';
import { hashToken } from '../tokens.js';

const admin = bearer(ADMIN_TOKEN);

async function whoamiStatus(relay: TestRelay, token: string): Promise<number> {
  return (await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) })).statusCode;
}

test('POST /v1/users creates a user whose token then authenticates', async (t) => {
  const relay = await createTestRelay(t);
  const res = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: admin, payload: { name: 'alice' } });
  assert.equal(res.statusCode, 201);
  const body = res.json<{ name: string; token: string; createdAt: string }>();
  assert.equal(body.name, 'alice');
  assert.match(body.token, /^tth_[A-Za-z0-9_-]{43}$/);
  assert.ok(!Number.isNaN(Date.parse(body.createdAt)));
  const whoami = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(body.token) });
  assert.deepEqual(whoami.json(), { name: 'alice', admin: false });
});

test('creating an existing user answers 409 TETHER_ERR_USER_EXISTS and keeps the first token', async (t) => {
  const relay = await createTestRelay(t);
  const token = await createUser(relay, 'alice');
  const res = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: admin, payload: { name: 'alice' } });
  assert.equal(res.statusCode, 409);
  assert.equal(res.json<{ code: string }>().code, ErrorCode.USER_EXISTS);
  assert.equal(await whoamiStatus(relay, token), 200);
});

test('invalid user names answer 400 and create nothing', async (t) => {
  const relay = await createTestRelay(t);
  const cases: [string, unknown, string][] = [
    ['path traversal', { name: '../etc' }, ErrorCode.INVALID_ARGUMENT],
    ['uppercase', { name: 'A' }, ErrorCode.INVALID_ARGUMENT],
    ['empty', { name: '' }, ErrorCode.INVALID_ARGUMENT],
    ['64 characters', { name: 'a'.repeat(64) }, ErrorCode.INVALID_ARGUMENT],
    ['reserved admin', { name: 'admin' }, ErrorCode.INVALID_ARGUMENT],
    ['unicode', { name: 'zoë' }, ErrorCode.INVALID_ARGUMENT],
    ['homoglyph', { name: 'аlice' }, ErrorCode.INVALID_ARGUMENT],
    ['leading dash', { name: '-alice' }, ErrorCode.INVALID_ARGUMENT],
    ['space', { name: 'al ice' }, ErrorCode.INVALID_ARGUMENT],
    ['NUL byte', { name: 'alice\u0000' }, ErrorCode.INVALID_ARGUMENT],
    ['object', { name: { first: 'alice' } }, ErrorCode.INVALID_ARGUMENT],
    ['missing', {}, ErrorCode.INVALID_ARGUMENT],
    ['not an object', 'alice', ErrorCode.INVALID_ARGUMENT],
  ];
  for (const [name, payload, code] of cases) {
    const res = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: { ...admin, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    assert.equal(res.statusCode, 400, name);
    assert.equal(res.json<{ code: string }>().code, code, name);
  }
  const malformed = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: { ...admin, 'content-type': 'application/json' }, payload: '{"name":' });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json<{ code: string }>().code, ErrorCode.INVALID_ARGUMENT);
  assert.deepEqual(await relay.store.listUsers(), []);
});

test('GET /v1/users lists users by name with role and block, without tokens', async (t) => {
  const relay = await createTestRelay(t);
  await createUser(relay, 'carol');
  await createUser(relay, 'alice');
  const res = await relay.app.inject({ method: 'GET', url: '/v1/users', headers: admin });
  assert.equal(res.statusCode, 200);
  const { users } = res.json<{ users: Record<string, unknown>[] }>();
  assert.deepEqual(users.map((u) => u.name), ['alice', 'carol']);
  for (const user of users) assert.deepEqual(Object.keys(user).sort(), ['blockedAt', 'createdAt', 'name', 'role']);
});

test('rotating a token makes the old one stop working at once', async (t) => {
  const relay = await createTestRelay(t);
  const old = await createUser(relay, 'alice');
  const res = await relay.app.inject({ method: 'POST', url: '/v1/users/alice/token', headers: admin });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ name: string; token: string }>();
  assert.equal(body.name, 'alice');
  assert.notEqual(body.token, old);
  assert.equal(await whoamiStatus(relay, old), 401);
  assert.equal(await whoamiStatus(relay, body.token), 200);

  const missing = await relay.app.inject({ method: 'POST', url: '/v1/users/nobody/token', headers: admin });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<{ code: string }>().code, ErrorCode.NOT_FOUND);
});

test('deleting a user revokes its token and its tunnels', async (t) => {
  const relay = await createTestRelay(t);
  const token = await createUser(relay, 'alice');
  const alice = (await relay.store.findUserByName('alice'));
  assert.ok(alice);
  await relay.store.claimTunnel('web', alice.id);
  const res = await relay.app.inject({ method: 'DELETE', url: '/v1/users/alice', headers: admin });
  assert.equal(res.statusCode, 204);
  assert.equal(res.body, '');
  assert.equal(await whoamiStatus(relay, token), 401);
  assert.equal((await relay.store.getTunnel('web')), undefined);

  const again = await relay.app.inject({ method: 'DELETE', url: '/v1/users/alice', headers: admin });
  assert.equal(again.statusCode, 404);
  assert.equal(again.json<{ code: string }>().code, ErrorCode.NOT_FOUND);
  // The name is free again, with a new identity.
  const fresh = await createUser(relay, 'alice');
  assert.equal(await whoamiStatus(relay, fresh), 200);
  assert.notEqual((await relay.store.findUserByName('alice'))?.id, alice.id);
});

test('tokens are stored only as hashes: no plaintext token in the database files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-users-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tether.db');
  const relay = await createTestRelay(t, {}, file);
  const tokens = [await createUser(relay, 'alice'), await createUser(relay, 'bob')];
  const rotated = (await relay.app.inject({ method: 'POST', url: '/v1/users/bob/token', headers: admin })).json<{ token: string }>().token;
  tokens.push(rotated);
  await relay.app.close();

  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT name, token_hash FROM users ORDER BY name').all() as { name: string; token_hash: string }[];
  db.close();
  assert.deepEqual(rows, [
    { name: 'alice', token_hash: hashToken(tokens[0]) },
    { name: 'bob', token_hash: hashToken(rotated) },
  ]);

  const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
  assert.ok(bytes.includes(Buffer.from(hashToken(tokens[0]))), 'the hash is in the file (the scan reads the real data)');
  for (const token of [...tokens, ADMIN_TOKEN]) {
    assert.ok(!bytes.includes(Buffer.from(token)), 'a token was found in the database files');
    assert.ok(!bytes.includes(Buffer.from(token.slice(4))), 'a token body was found in the database files');
  }
});

test('replacing a token or deleting a user closes that user\'s open connections, and only theirs', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const aliceToken = await createUser(relay, 'alice');
  const bobToken = await createUser(relay, 'bob');
  const aliceHost = await openLink(relay, '/v1/host?tunnel=web', aliceToken);
  const bobConnector = await openLink(relay, '/v1/connect', bobToken);

  const rotate = await relay.app.inject({ method: 'POST', url: '/v1/users/alice/token', headers: admin });
  assert.equal(rotate.statusCode, 200);
  assert.deepEqual(await aliceHost.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  assert.equal(relay.router.stats().hosts, 0);

  const bobHost = await openLink(relay, '/v1/host?tunnel=bobs', bobToken);
  const del = await relay.app.inject({ method: 'DELETE', url: '/v1/users/bob', headers: admin });
  assert.equal(del.statusCode, 204);
  assert.deepEqual(await bobHost.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  assert.deepEqual(await bobConnector.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  assert.equal(relay.router.stats().connectors, 0);
});
