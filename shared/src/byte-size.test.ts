import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseByteSize } from './byte-size.js';
import { ErrorCode, TetherError } from './errors.js';

test('sizes as people write them, in binary units', () => {
  const cases: Array<[string, number]> = [['1048576', 1048576], ['64MB', 64 * 1024 ** 2], ['512k', 512 * 1024], ['1GiB', 1024 ** 3], ['1.5 KB', 1536], ['0', 0], ['7b', 7]];
  for (const [text, bytes] of cases) assert.equal(parseByteSize(text), bytes, text);
});

test('anything else is a coded error naming what was asked for', () => {
  for (const text of ['', 'lots', '12 parsecs', '-1', '1e9', 'MB']) {
    assert.throws(() => parseByteSize(text, 'cache size'), (err: unknown) => err instanceof TetherError && err.code === ErrorCode.INVALID_ARGUMENT && err.message.startsWith('cache size'), text);
  }
});
