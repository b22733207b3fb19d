import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateAuditKeyring, rotateAuditKeyring } from './audit-keys.js';
import { fingerprint, openDetails, redactSecrets, sealDetails } from './details-cipher.js';

const ring = generateAuditKeyring('2026-12-03T12:00:00.000Z');

test('sealed details open with the ring, only for the record they were sealed for', () => {
  const details = { action: 'tunnel.connect', detail: { up: 12, down: 3400 } };
  const sealed = sealDetails(details, 7, ring);
  assert.equal(sealed.alg, 'A256GCM');
  assert.equal(sealed.kid, ring.details[0].kid);
  assert.ok(!sealed.ct.includes('tunnel.connect'));
  assert.deepEqual(openDetails(sealed, 7, ring), details);
  // Copied into another record (the index is bound as additional data), they do not open.
  assert.equal(openDetails(sealed, 8, ring), undefined);
  // Nor with a tampered tag, nor with a ring that lacks the key.
  assert.equal(openDetails({ ...sealed, tag: Buffer.alloc(16).toString('base64url') }, 7, ring), undefined);
  assert.equal(openDetails(sealed, 7, generateAuditKeyring()), undefined);
});

test('details are sealed with the newest key; older records still open after a rotation', () => {
  const old = sealDetails({ action: 'a' }, 1, ring);
  const rotated = rotateAuditKeyring(ring, '2026-12-04T12:00:00.000Z');
  const sealed = sealDetails({ action: 'b' }, 2, rotated);
  assert.notEqual(sealed.kid, old.kid);
  assert.deepEqual(openDetails(old, 1, rotated), { action: 'a' });
  assert.deepEqual(openDetails(sealed, 2, rotated), { action: 'b' });
});

test('every record gets its own nonce, across refills of the nonce pool', () => {
  // The random pool (shared/src/random-pool.ts) holds 4 KiB, 341 nonces: 2,000 seals cross it several times.
  const nonces = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const sealed = sealDetails({ action: 'same' }, 1, ring);
    assert.equal(Buffer.from(sealed.iv, 'base64url').length, 12);
    nonces.add(sealed.iv);
  }
  assert.equal(nonces.size, 2000);
});

test('secret-named fields are replaced by their keyed fingerprint, others kept', () => {
  const salt = Buffer.alloc(32, 1);
  const detail = { token: 'tk_live_1', invite_code: 'ABCD', user: 'alice', count: 3 };
  const redacted = redactSecrets(detail, salt);
  assert.equal(redacted.token, fingerprint('tk_live_1', salt));
  assert.equal(redacted.invite_code, fingerprint('ABCD', salt));
  assert.equal(redacted.user, 'alice');
  assert.equal(redacted.count, 3);
  assert.equal(detail.token, 'tk_live_1', 'the caller keeps its object');
  assert.equal(redactSecrets({ user: 'bob' }, salt).user, 'bob');
});
