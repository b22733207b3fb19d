/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, TetherError } from './errors.js';
import { assertTunnelName, checkTunnelName, checkUserName, TUNNEL_NAME_PATTERN } from './tunnel-name.js';

const valid: string[] = ['a', '0', 'ab', 'a-b', 'a--b', 'my-box-01', '9lives', 'a'.repeat(63), `a${'-'.repeat(61)}b`];

const invalid: { name: string; value: unknown }[] = [
  { name: 'empty', value: '' },
  { name: 'path traversal', value: '../x' },
  { name: 'slash', value: 'a/b' },
  { name: 'uppercase', value: 'A' },
  { name: 'mixed case', value: 'myBox' },
  { name: '64 characters', value: 'a'.repeat(64) },
  { name: 'leading hyphen', value: '-a' },
  { name: 'trailing hyphen', value: 'a-' },
  { name: 'only a hyphen', value: '-' },
  { name: 'accented letter', value: 'café' },
  { name: 'Cyrillic look-alike', value: 'b\u043ex' },
  { name: 'fullwidth letter', value: '\uff41' },
  { name: 'emoji', value: 'box-😀' },
  { name: 'inner space', value: 'a b' },
  { name: 'leading space', value: ' a' },
  { name: 'trailing newline', value: 'a\n' },
  { name: 'null byte', value: 'a\0' },
  { name: 'dot', value: 'a.b' },
  { name: 'underscore', value: 'a_b' },
  { name: 'percent-encoding', value: 'a%2fb' },
  { name: 'undefined', value: undefined },
  { name: 'null', value: null },
  { name: 'number', value: 42 },
  { name: 'array', value: ['a'] },
];

describe('tunnel names', () => {
  for (const name of valid) {
    test(`accepts ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, () => {
      assert.equal(checkTunnelName(name), undefined);
      assert.doesNotThrow(() => assertTunnelName(name));
      assert.equal(checkUserName(name), undefined);
    });
  }

  for (const c of invalid) {
    test(`rejects ${c.name}`, () => {
      assert.equal(checkTunnelName(c.value)?.code, ErrorCode.INVALID_TUNNEL_NAME);
      assert.throws(
        () => assertTunnelName(c.value),
        (err: unknown) => err instanceof TetherError && err.code === ErrorCode.INVALID_TUNNEL_NAME,
      );
      assert.equal(checkUserName(c.value)?.code, ErrorCode.INVALID_ARGUMENT);
      if (typeof c.value === 'string') assert.equal(TUNNEL_NAME_PATTERN.test(c.value), false);
    });
  }

  test('the error message never quotes a long hostile name', () => {
    const err = checkTunnelName(`${'x'.repeat(10_000)}_`);
    assert.ok(err);
    assert.ok(err.message.length < 100, `message of ${err.message.length} characters`);
  });

  test('a name that is too long is told so, with its length and the rule, not quoted', () => {
    assert.equal(checkUserName('a'.repeat(300))?.message, "user name is too long (300 characters; at most 63 of a-z, 0-9 and '-')");
    assert.equal(checkTunnelName('x'.repeat(10_000))?.message, "tunnel name is too long (10000 characters; at most 63 of a-z, 0-9 and '-')");
    assert.equal(checkUserName('Bob')?.message, 'invalid user name "Bob": use 1-63 characters of lowercase a-z, 0-9 and "-", starting and ending with a letter or digit');
  });
});
