import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readStartupShares, withoutStartupShare, withStartupShare } from './startup-shares.js';

describe('readStartupShares', () => {
  test('nothing set: nothing to share, nothing to say', () => {
    assert.deepEqual(readStartupShares(undefined, 22), { shares: [], problems: [] });
    assert.deepEqual(readStartupShares([], 22), { shares: [], problems: [] });
  });

  test('names and entries, with the SSH port and loopback as defaults', () => {
    const { shares, problems } = readStartupShares(['laptop', { name: 'web', port: 5173 }, { name: 'db', host: 'localhost', port: 5432 }, ' spaced '], 2222);
    assert.deepEqual(shares, [
      { name: 'laptop', host: '127.0.0.1', port: 2222 },
      { name: 'web', host: '127.0.0.1', port: 5173 },
      { name: 'db', host: 'localhost', port: 5432 },
      { name: 'spaced', host: '127.0.0.1', port: 2222 },
    ]);
    assert.deepEqual(problems, []);
  });

  test('each bad entry is one problem in words and is left out; the good ones stay', () => {
    const { shares, problems } = readStartupShares(
      ['UPPER', { name: 'web', port: 70000 }, { name: 'api', port: '8080' }, { name: 'x', host: 'two words' }, { port: 22 }, 7, null, ['a'], 'ok', 'ok'],
      22,
    );
    assert.deepEqual(shares, [{ name: 'ok', host: '127.0.0.1', port: 22 }]);
    assert.equal(problems.length, 9);
    assert.match(problems[0], /tunnel name/i);
    assert.match(problems[1], /^web: expected a port from 1 to 65535, got 70000$/);
    assert.match(problems[2], /^api: expected a port from 1 to 65535, got "8080"$/);
    assert.match(problems[3], /^x: expected a host name or address, got "two words"$/);
    assert.match(problems[4], /tunnel name/i);
    assert.match(problems[5], /^expected a tunnel name or \{ "name", "port", "host" \}, got 7$/);
    assert.match(problems[6], /got null$/);
    assert.match(problems[7], /got \["a"\]$/);
    assert.equal(problems[8], 'ok is listed twice (the first entry is used)');
  });

  test('not a list: one problem, nothing shared', () => {
    assert.deepEqual(readStartupShares('laptop', 22), { shares: [], problems: ['expected a list of tunnel names or { "name", "port", "host" } entries'] });
  });
});

describe('withStartupShare / withoutStartupShare', () => {
  test('adds an entry, replaces one of the same name (string or object), keeps the others as written', () => {
    const before = ['laptop', { name: 'web', port: 3000 }, 'other'];
    assert.deepEqual(withStartupShare(before, { name: 'web', host: '127.0.0.1', port: 5173 }), ['laptop', 'other', { name: 'web', host: '127.0.0.1', port: 5173 }]);
    assert.deepEqual(withStartupShare(before, { name: 'laptop', host: '127.0.0.1', port: 22 }), [{ name: 'web', port: 3000 }, 'other', { name: 'laptop', host: '127.0.0.1', port: 22 }]);
    assert.deepEqual(withStartupShare(undefined, { name: 'a', host: 'h', port: 1 }), [{ name: 'a', host: 'h', port: 1 }]);
  });

  test('removes by name whichever form it was written in', () => {
    assert.deepEqual(withoutStartupShare(['laptop', { name: 'web', port: 3000 }, null], 'web'), ['laptop', null]);
    assert.deepEqual(withoutStartupShare([' laptop'], 'laptop'), []);
    assert.deepEqual(withoutStartupShare('junk', 'laptop'), []);
  });
});
