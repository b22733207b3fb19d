import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountLabel, accountSession, sessionChange } from './account-session.js';

const alice = { relay: 'http://relay.example.com:8080', user: 'alice', token: 'tth_a' };

describe('accountLabel', () => {
  const cases: [string, string, string][] = [
    ['http://127.0.0.1:8080', 'alice', 'alice @ 127.0.0.1:8080'],
    ['https://relay.example.com/', 'bob', 'bob @ relay.example.com'],
    ['http://127.0.0.1:8080', '', '127.0.0.1:8080'],
  ];
  for (const [relay, user, label] of cases) test(`${relay} + "${user}" → ${label}`, () => assert.equal(accountLabel(relay, user), label));
});

describe('accountSession', () => {
  test('carries the token, the label as account, and no scopes', () => {
    assert.deepEqual(accountSession(alice), {
      id: 'http://relay.example.com:8080#alice',
      accessToken: 'tth_a',
      account: { id: 'alice @ relay.example.com:8080', label: 'alice @ relay.example.com:8080' },
      scopes: [],
    });
  });
});

describe('sessionChange', () => {
  const a = accountSession(alice);
  const rotated = accountSession({ ...alice, token: 'tth_b' });
  const carol = accountSession({ ...alice, user: 'carol' });
  const otherRelay = accountSession({ ...alice, relay: 'http://127.0.0.1:9090' });
  test('signing in adds the session', () => assert.deepEqual(sessionChange(undefined, a), { added: [a], removed: [], changed: [] }));
  test('signing out removes it', () => assert.deepEqual(sessionChange(a, undefined), { added: [], removed: [a], changed: [] }));
  test('another user or relay: removed and added', () => {
    assert.deepEqual(sessionChange(a, carol), { added: [carol], removed: [a], changed: [] });
    assert.deepEqual(sessionChange(a, otherRelay), { added: [otherRelay], removed: [a], changed: [] });
  });
  test('a new token for the same user: changed', () => assert.deepEqual(sessionChange(a, rotated), { added: [], removed: [], changed: [rotated] }));
  test('nothing changed (a busy flag, say): no event', () => {
    assert.equal(sessionChange(a, accountSession(alice)), undefined);
    assert.equal(sessionChange(undefined, undefined), undefined);
  });
});
