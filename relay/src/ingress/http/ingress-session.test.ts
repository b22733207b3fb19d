import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cookieValue, readSession, signSession } from './ingress-session.js';

const SECRET = 'a-secret-of-the-relay-store-0001';
const NOW = Date.UTC(2026, 11, 1);

test('a session reads back for its tunnel until it expires; forged or foreign ones do not', async () => {
  const cookie = await signSession(SECRET, { kind: 'user', tunnel: 'web', tokenHash: 'ab'.repeat(32) }, NOW, 60_000);
  assert.deepEqual(await readSession(SECRET, 'web', cookie, NOW + 1000), { kind: 'user', tunnel: 'web', tokenHash: 'ab'.repeat(32) });
  assert.equal(await readSession(SECRET, 'api', cookie, NOW), undefined, 'another tunnel');
  assert.equal(await readSession(SECRET, 'web', cookie, NOW + 120_000), undefined, 'expired');
  assert.equal(await readSession('another-secret-entirely-000001', 'web', cookie, NOW), undefined, 'another relay');
  assert.equal(await readSession(SECRET, 'web', `${cookie.slice(0, -2)}xx`, NOW), undefined, 'tampered');
  assert.equal(await readSession(SECRET, 'web', 'x'.repeat(5000), NOW), undefined, 'oversize');
  const visitor = await signSession(SECRET, { kind: 'token', tunnel: 'club', accessHash: 'cd'.repeat(32) }, NOW, 60_000);
  assert.deepEqual(await readSession(SECRET, 'club', visitor, NOW), { kind: 'token', tunnel: 'club', accessHash: 'cd'.repeat(32) });
});

test('cookie values are found by name', () => {
  assert.equal(cookieValue('a=1; tether_session=x.y.z; b=2', 'tether_session'), 'x.y.z');
  assert.equal(cookieValue(['a=1', 'b=2'], 'b'), '2');
  assert.equal(cookieValue('tether_session_old=1', 'tether_session'), undefined);
  assert.equal(cookieValue(undefined, 'a'), undefined);
});
