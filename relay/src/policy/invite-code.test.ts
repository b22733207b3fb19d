import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import type { InviteRecord } from '../ports/team-store.js';
import { inviteIdOf, readInvite, signInvite } from './invite-code.js';

const SECRET = 'a-relay-secret-of-32-bytes-or-so-xx';
const NOW = Date.parse('2026-12-01T10:00:00.000Z');
const invite: InviteRecord = {
  id: 'inv_abc123', tunnel: 'web', role: 'connect', createdBy: 1, createdAt: new Date(NOW).toISOString(),
  expiresAt: new Date(NOW + 3_600_000).toISOString(), maxUses: 1, uses: 0, userId: null, revoked: false,
};

test('a signed invite reads back as what it names, and its id can be read without the key', async () => {
  const code = await signInvite(SECRET, invite);
  assert.match(code, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.deepEqual(await readInvite(SECRET, `  ${code}\n`, NOW + 1000), { id: 'inv_abc123', tunnel: 'web', role: 'connect', expiresAt: NOW + 3_600_000 });
  assert.equal(inviteIdOf(code), 'inv_abc123');
  assert.equal(inviteIdOf('garbage'), undefined);
  assert.equal(inviteIdOf('a.!!!.c'), undefined);
});

test('malformed, truncated, forged and re-signed codes are INVITE_INVALID; an expired one INVITE_EXPIRED', async () => {
  const code = await signInvite(SECRET, invite);
  const [header, payload, signature] = code.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' })).toString('base64url');
  const bad = [
    '',
    'not a code',
    'x'.repeat(5000),
    code.slice(0, -10),
    `${header}.${payload}`,
    `${header}.${forgedPayload}.${signature}`,
    await signInvite('another-relay-secret-0123456789abc', invite),
    // alg none: an unsigned token claiming the same invite.
    `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'tether-invite+jwt' })).toString('base64url')}.${payload}.`,
  ];
  for (const candidate of bad) {
    await assert.rejects(readInvite(SECRET, candidate, NOW), (err: { code: string; message: string }) => {
      assert.equal(err.code, ErrorCode.INVITE_INVALID, candidate.slice(0, 40));
      assert.doesNotMatch(err.message, /JWS|JWT|signature verification/i, 'no library wording reaches the user');
      return true;
    });
  }
  await assert.rejects(readInvite(SECRET, code, NOW + 3_601_000), { code: ErrorCode.INVITE_EXPIRED, message: 'this invite has expired: ask for a new one' });
});
