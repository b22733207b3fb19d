import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inviteClaimsOf, inviteCodeFrom, inviteIdOf } from './invite-code.js';

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

test('inviteIdOf reads the jti of a JWT without checking it', () => {
  assert.equal(inviteIdOf(`${part({ alg: 'HS256' })}.${part({ jti: 'inv_abc', tunnel: 'box', role: 'view' })}.sig`), 'inv_abc');
  assert.equal(inviteIdOf(` ${part({})}.${part({ jti: 'x' })}.s \n`), 'x');
});

test('inviteIdOf: undefined for anything else', () => {
  for (const code of ['', 'inv_abc', 'a.b', `h.${part({ jti: 'x' })}`, `h.${part({ sub: 'x' })}.s`, `h.${part({ jti: 1 })}.s`, `h.${part({ jti: '' })}.s`, 'h.!!!.s', `h.${part(null)}.s`, `h.${part('jti')}.s`]) {
    assert.equal(inviteIdOf(code), undefined, code);
  }
});

test('inviteClaimsOf reads tunnel and role (and expiry) unverified; undefined for anything that is not such a code', () => {
  const code = `${part({ alg: 'HS256' })}.${part({ jti: 'inv_1', tunnel: 'web', role: 'connect', exp: 1_900_000_000 })}.sig`;
  assert.deepEqual(inviteClaimsOf(code), { id: 'inv_1', tunnel: 'web', role: 'connect', expiresAt: 1_900_000_000_000 });
  for (const bad of ['', 'a.b', `h.${part({ jti: 'x', tunnel: 'web', role: 'owner' })}.s`, `h.${part({ jti: 'x', tunnel: 'Bad Name!', role: 'view' })}.s`, `h.${part({ tunnel: 'web', role: 'view' })}.s`]) {
    assert.equal(inviteClaimsOf(bad), undefined, bad);
  }
});

test('inviteCodeFrom takes a code, or a link with code=…; a coded sentence for anything else', () => {
  const code = `${part({ alg: 'HS256' })}.${part({ jti: 'inv_1', tunnel: 'web', role: 'view' })}.c2ln`;
  assert.equal(inviteCodeFrom(` ${code}\n`), code);
  assert.equal(inviteCodeFrom(`vscode://tether-dev.tether/invite?code=${encodeURIComponent(code)}`), code);
  assert.equal(inviteCodeFrom(`https://example.com/invite?x=1&code=${code}`), code);
  for (const [text, why] of [['hello', /not an invite code/], ['vscode://tether-dev.tether/invite', /no code=/], ['a.b', /not an invite code/], ['a.b.c d', /not an invite code/]] as const) {
    assert.throws(() => inviteCodeFrom(text), (err: Error & { code?: string }) => err.code === 'TETHER_ERR_INVITE_INVALID' && why.test(err.message), text);
  }
});
