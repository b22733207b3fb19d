import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPanelMessage } from './sharing-panel-protocol.js';

test('readPanelMessage takes each message of the protocol as it is', () => {
  const good = [
    { type: 'ready' },
    { type: 'refresh' },
    { type: 'setMember', user: 'mia', role: 'view', expiresAt: null },
    { type: 'setMember', user: 'mia', role: 'admin', expiresAt: '2026-12-02T00:00:00.000Z' },
    { type: 'removeMember', user: 'mia' },
    { type: 'blockMember', user: 'mia', blocked: true },
    { type: 'createInvite', role: 'connect', expiresInMs: 86_400_000, uses: 1 },
    { type: 'copyInviteLink', id: 'inv_abc-1' },
    { type: 'revokeInvite', id: 'inv_abc' },
    { type: 'review', id: 'req_1', decision: 'deny', reason: 'not now' },
    { type: 'updateSettings', patch: { approval: 'required', approvals: 2, maxDurationMs: null } },
  ];
  for (const message of good) assert.deepEqual(readPanelMessage(message), message, JSON.stringify(message));
  // Optional fields get their defaults.
  assert.deepEqual(readPanelMessage({ type: 'review', id: 'r', decision: 'approve' }), { type: 'review', id: 'r', decision: 'approve', reason: '' });
  assert.deepEqual(readPanelMessage({ type: 'setMember', user: 'mia', role: 'view' }), { type: 'setMember', user: 'mia', role: 'view', expiresAt: null });
});

test('readPanelMessage drops anything else: unknown types, extra or wrong fields, out-of-range values', () => {
  const bad: unknown[] = [
    null, 'ready', [], {}, { type: 'eval', code: '1' }, { type: 'ready', extra: 1 },
    { type: 'setMember', user: 'mia', role: 'owner' },
    { type: 'setMember', user: '../admin', role: 'view' },
    { type: 'setMember', user: 'mia', role: 'view', expiresAt: 'tomorrow' },
    { type: 'removeMember', user: 42 },
    { type: 'blockMember', user: 'mia', blocked: 'yes' },
    { type: 'createInvite', role: 'connect', expiresInMs: 999, uses: 1 },
    { type: 'createInvite', role: 'connect', expiresInMs: 31 * 86_400_000, uses: 1 },
    { type: 'createInvite', role: 'connect', expiresInMs: 86_400_000, uses: 1001 },
    { type: 'createInvite', role: 'connect', expiresInMs: 86_400_000, uses: 1.5 },
    { type: 'createInvite', role: 'connect', expiresInMs: 86_400_000, uses: 1, user: 'mia' },
    { type: 'copyInviteLink', id: 'a/b' },
    { type: 'copyInviteLink', code: 'x.y.z' },
    { type: 'revokeInvite', id: '' },
    { type: 'review', id: 'r', decision: 'maybe' },
    { type: 'review', id: 'r', decision: 'approve', reason: 'x'.repeat(501) },
    { type: 'updateSettings', patch: {} },
    { type: 'updateSettings', patch: { approvals: 11 } },
    { type: 'updateSettings', patch: { approval: 'sometimes' } },
    { type: 'updateSettings', patch: { maxDurationMs: 10 } },
    { type: 'updateSettings', patch: { owner: 'me' } },
  ];
  for (const message of bad) assert.equal(readPanelMessage(message), undefined, JSON.stringify(message));
});
