import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clearedCookie, csrfMatches, newCsrfToken, readAdminSession, sessionCookie, signAdminSession } from './admin-session.js';

const SECRET = 'a-test-secret-of-enough-length-0123456789';
const HASH = 'ab'.repeat(32);
const NOW = Date.parse('2026-12-01T12:00:00Z');

test('a signed session reads back with its claims until it expires', async () => {
  const csrf = newCsrfToken();
  const jwt = await signAdminSession(SECRET, { tokenHash: HASH, csrf }, NOW, 60_000);
  const read = await readAdminSession(SECRET, jwt, NOW + 59_000);
  assert.deepEqual(read, { ok: true, claims: { tokenHash: HASH, csrf }, expiresAt: NOW + 60_000 });
  assert.deepEqual(await readAdminSession(SECRET, jwt, NOW + 61_000), { ok: false, problem: 'expired' });
});

test('cookies that are not sessions of this relay are refused, each with its problem', async () => {
  const jwt = await signAdminSession(SECRET, { tokenHash: HASH, csrf: newCsrfToken() }, NOW, 60_000);
  const [header, payload, signature] = jwt.split('.');
  const cases: [string, string, string][] = [
    ['empty', '', 'malformed'],
    ['not a JWT', 'hello', 'malformed'],
    ['oversized', `${'a'.repeat(3000)}.b.c`, 'malformed'],
    ['bad characters', `${header}.${payload}.${signature}!`, 'malformed'],
    ['another secret', await signAdminSession('another-secret-0123456789-0123456789', { tokenHash: HASH, csrf: newCsrfToken() }, NOW, 60_000), 'forged'],
    ['signature cut', `${header}.${payload}.${signature.slice(0, -4)}AAAA`, 'forged'],
    ['a token hash that is not one', await signAdminSession(SECRET, { tokenHash: 'nope', csrf: newCsrfToken() }, NOW, 60_000), 'forged'],
  ];
  for (const [name, cookie, problem] of cases) {
    assert.deepEqual(await readAdminSession(SECRET, cookie, NOW), { ok: false, problem }, name);
  }
});

test('CSRF tokens match only exactly', () => {
  const csrf = newCsrfToken();
  assert.equal(csrf.length, 43);
  assert.notEqual(newCsrfToken(), csrf);
  assert.equal(csrfMatches(csrf, csrf), true);
  for (const wrong of [undefined, '', csrf.slice(1), `${csrf}x`, [csrf, csrf], `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`]) {
    assert.equal(csrfMatches(wrong, csrf), false, String(wrong));
  }
});

test('the cookie is HttpOnly and SameSite=Strict, Secure with TLS, and cleared with Max-Age=0', () => {
  assert.equal(sessionCookie('v', false, 3_600_000), 'tether_admin=v; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict');
  assert.equal(sessionCookie('v', true, 3_600_000), 'tether_admin=v; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure');
  assert.equal(clearedCookie(true), 'tether_admin=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
});
