import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { shareSettings } from './share-settings.js';
import { UsageError } from './output.js';

test('share with no service options asks nothing of the relay', () => {
  assert.deepEqual(shareSettings({}, {}), { settings: undefined });
});

test('--http alone means an HTTP/1.1 origin, private; the options map onto the settings', () => {
  assert.deepEqual(shareSettings({ http: true }, {}).settings, { http: 'http1' });
  assert.deepEqual(shareSettings({ http: 'h2c', access: 'public', cache: '64MB', compress: true }, {}).settings, { http: 'h2c', access: 'public', cacheBytes: 64 * 1024 ** 2, compress: true });
  assert.deepEqual(shareSettings({ allow: 'ssh' }, {}).settings, { allow: ['ssh'] });
  assert.deepEqual(shareSettings({ udp: true }, {}).settings, { udp: true });
});

test('--access token makes a token when none is given, and sends only its hash', () => {
  const made = shareSettings({ http: true, access: 'token' }, {});
  assert.equal(made.madeToken, true);
  assert.match(made.accessToken!, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(made.settings?.accessTokenSha256, createHash('sha256').update(made.accessToken!).digest('hex'));
  const given = shareSettings({ http: true, access: 'token' }, { TETHER_ACCESS_TOKEN: 'a-long-enough-token' });
  assert.deepEqual([given.accessToken, given.madeToken], ['a-long-enough-token', false]);
});

test('options that do not fit together are usage errors that say what to do', () => {
  const bad: Array<[Parameters<typeof shareSettings>[0], RegExp]> = [
    [{ http: 'spdy' }, /--http takes http1 or h2c/],
    [{ access: 'public' }, /add --http/],
    [{ cache: '1GB' }, /--access, --cache and --compress apply to HTTP tunnels: add --http/],
    [{ http: true, cache: 'heaps' }, /--cache "heaps" is not a size/],
    [{ allow: 'ssh,gopher' }, /unknown protocol "gopher"/],
    [{ http: true, access: 'token', 'access-token': 'short' }, /at least 16 characters/],
    [{ http: true, 'access-token': 'a-long-enough-token' }, /applies with --access token/],
    [{ udp: true, http: true }, /UDP tunnel/],
  ];
  for (const [values, why] of bad) {
    assert.throws(() => shareSettings(values, {}), (err: unknown) => err instanceof UsageError && why.test(err.message), JSON.stringify(values));
  }
});
