import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SUBPROTOCOL } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, upgradeRefusal } from './test-support/testing.js';

const badAuthorization: [string, Record<string, string>][] = [
  ['no header', {}],
  ['empty header', { authorization: '' }],
  ['no scheme', { authorization: ADMIN_TOKEN }],
  ['basic scheme', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }],
  ['bearer without token', { authorization: 'Bearer ' }],
  ['two tokens', { authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` }],
  ['wrong token', { authorization: 'Bearer tth_not-a-real-token' }],
  ['admin token with a suffix', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
  ['oversized token', { authorization: `Bearer ${'x'.repeat(600)}` }],
];

const httpRoutes: [string, string][] = [
  ['GET', '/v1/whoami'],
  ['GET', '/v1/tunnels'],
  ['GET', '/v1/tunnels/web'],
  ['GET', '/v1/users'],
  ['POST', '/v1/users'],
  ['POST', '/v1/users/alice/token'],
  ['DELETE', '/v1/users/alice'],
];

test('HTTP routes answer 401 TETHER_ERR_UNAUTHORIZED without a valid bearer token', async (t) => {
  const relay = await createTestRelay(t);
  for (const [method, url] of httpRoutes) {
    for (const [name, headers] of badAuthorization) {
      const res = await relay.app.inject({ method: method as 'GET', url, headers, payload: method === 'POST' ? { name: 'alice' } : undefined });
      assert.equal(res.statusCode, 401, `${method} ${url} with ${name}`);
      assert.equal(res.json<{ code: string }>().code, ErrorCode.UNAUTHORIZED, `${method} ${url} with ${name}`);
    }
  }
  // Refused requests changed nothing.
  const users = await relay.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(ADMIN_TOKEN) });
  assert.deepEqual(users.json(), { users: [] });
});

test('the scheme is case-insensitive and whoami names the identity', async (t) => {
  const relay = await createTestRelay(t);
  const token = await createUser(relay, 'alice');
  const cases: [string, string, { name: string; admin: boolean }][] = [
    ['admin', `Bearer ${ADMIN_TOKEN}`, { name: 'admin', admin: true }],
    ['lowercase scheme', `bearer ${token}`, { name: 'alice', admin: false }],
    ['extra spaces', `Bearer   ${token}  `, { name: 'alice', admin: false }],
  ];
  for (const [name, authorization, expected] of cases) {
    const res = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization } });
    assert.equal(res.statusCode, 200, name);
    assert.deepEqual(res.json(), expected, name);
  }
});

test('admin-only routes answer 403 TETHER_ERR_FORBIDDEN to a user token', async (t) => {
  const relay = await createTestRelay(t);
  const token = await createUser(relay, 'alice');
  const adminRoutes: [string, string][] = [
    ['GET', '/v1/users'],
    ['POST', '/v1/users'],
    ['POST', '/v1/users/alice/token'],
    ['DELETE', '/v1/users/alice'],
  ];
  for (const [method, url] of adminRoutes) {
    const res = await relay.app.inject({ method: method as 'GET', url, headers: bearer(token), payload: method === 'POST' ? { name: 'mallory' } : undefined });
    assert.equal(res.statusCode, 403, `${method} ${url}`);
    assert.equal(res.json<{ code: string }>().code, ErrorCode.FORBIDDEN, `${method} ${url}`);
  }
  // alice still exists and kept her token.
  const whoami = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) });
  assert.equal(whoami.statusCode, 200);
});

test('both WebSocket endpoints refuse a missing or bad token with 401 before the upgrade', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  for (const path of ['/v1/host?tunnel=web', '/v1/connect']) {
    for (const [name, headers] of badAuthorization) {
      const refusal = await upgradeRefusal(relay, path, headers, [SUBPROTOCOL]);
      assert.equal(refusal.status, 401, `${path} with ${name}`);
      assert.equal(refusal.body.code, ErrorCode.UNAUTHORIZED, `${path} with ${name}`);
    }
  }
  assert.equal(relay.router.stats().hosts, 0);
  assert.equal(relay.router.stats().connectors, 0);
  // The refused host did not claim the name.
  assert.equal(await relay.store.getTunnel('web'), undefined);
});

test('unknown routes answer 404 TETHER_ERR_NOT_FOUND', async (t) => {
  const relay = await createTestRelay(t);
  const res = await relay.app.inject({ method: 'GET', url: '/v2/nothing?x=1' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.json<{ code: string }>().code, ErrorCode.NOT_FOUND);
});
