import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inviteIdOf } from './invite-code.js';

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
