import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, TetherError } from './errors.js';
import { checkTunnelSettings, describeTunnelSettings, parseAllowList, parseTunnelSettings, protocolAllowed, tunnelSettingsQuery, type TunnelSettings } from './tunnel-settings.js';

const HASH = 'a'.repeat(64);

test('settings survive the trip through the host query', () => {
  const cases: TunnelSettings[] = [
    {},
    { http: 'http1' },
    { http: 'h2c', access: 'token', accessTokenSha256: HASH, cacheBytes: 1024, compress: true, allow: ['http'] },
    { http: 'http1', access: 'public' },
    { allow: ['ssh', 'tls'] },
    { udp: true },
  ];
  for (const s of cases) {
    const query = Object.fromEntries(tunnelSettingsQuery(s));
    assert.deepEqual(parseTunnelSettings(query), s, JSON.stringify(s));
  }
});

test('settings that do not hold together are refused with a coded message saying why', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ http: 'spdy' }, /http must be http1 or h2c/],
    [{ http: 'http1', access: 'friends' }, /access must be private, token or public/],
    [{ access: 'public' }, /apply to HTTP tunnels/],
    [{ http: 'http1', access: 'token' }, /SHA-256/],
    [{ http: 'http1', access_token_sha256: HASH }, /only with access token/],
    [{ http: 'http1', cache: 'lots' }, /number of bytes/],
    [{ http: 'http1', cache: String(2 ** 40) }, /cache must be/],
    [{ udp: '1', http: 'http1' }, /UDP tunnel/],
    [{ allow: 'ssh,gopher' }, /unknown protocol "gopher"/],
    [{ allow: ',' }, /empty/],
    [{ compress: 'yes', http: 'http1' }, /compress must be 1 or 0/],
    [{ http: ['http1', 'h2c'] }, /one short value/],
  ];
  for (const [query, why] of bad) {
    assert.throws(() => parseTunnelSettings(query), (err: unknown) => err instanceof TetherError && err.code === ErrorCode.INVALID_ARGUMENT && why.test(err.message), JSON.stringify(query));
  }
  assert.equal(checkTunnelSettings({ http: 'http1', access: 'private' }), undefined);
});

test('an allow-list admits its protocols, and http stands for both HTTP versions', () => {
  assert.equal(protocolAllowed(undefined, 'unknown'), true);
  assert.equal(protocolAllowed(['ssh'], 'ssh'), true);
  assert.equal(protocolAllowed(['ssh'], 'tls'), false);
  assert.equal(protocolAllowed(['http'], 'h2'), true);
  assert.equal(protocolAllowed(['http'], 'http1'), true);
  assert.equal(protocolAllowed(['h2'], 'http1'), false);
  assert.deepEqual(parseAllowList(' SSH, http ,ssh'), ['ssh', 'http']);
});

test('settings read as one line for people', () => {
  assert.equal(describeTunnelSettings(undefined), '');
  assert.equal(describeTunnelSettings({ http: 'http1' }), 'http http1, access private');
  assert.equal(describeTunnelSettings({ udp: true }), 'udp');
  assert.equal(describeTunnelSettings({ http: 'h2c', access: 'public', cacheBytes: 10, compress: true, allow: ['http'] }), 'http h2c, access public, allow http, cache 10 bytes, compress');
});
