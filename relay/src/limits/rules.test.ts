import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { addressPart, keyPart, RateKeys } from './rate-limit-keys.js';
import { defaultRateLimitRules, resolveRateLimitRules } from './rules.js';

test('resolveRateLimitRules: nothing given is the defaults, and every default rule is valid', () => {
  assert.deepEqual(resolveRateLimitRules(), defaultRateLimitRules);
  assert.deepEqual(resolveRateLimitRules(structuredClone(defaultRateLimitRules)), defaultRateLimitRules);
});

test('resolveRateLimitRules: a rule given replaces its default, false turns it off, routes merge one by one', () => {
  const rules = resolveRateLimitRules({
    opens: { perTunnel: { rate: 10, periodMs: 1000, burst: 5, onStoreDown: 'closed' } },
    upgrades: { perAddress: false },
    api: { perRoute: { 'GET /v1/tunnels': { rate: 5, periodMs: 1000, burst: 5 }, 'POST /v1/users': false } },
    bytes: { perUser: { rate: 1_048_576, periodMs: 1000, burst: 262_144 } },
  });
  assert.deepEqual(rules.opens.perTunnel, { rate: 10, periodMs: 1000, burst: 5, onStoreDown: 'closed' });
  assert.deepEqual(rules.opens.perIdentity, defaultRateLimitRules.opens.perIdentity);
  assert.equal(rules.upgrades.perAddress, false);
  assert.deepEqual(rules.api.perRoute['GET /v1/tunnels'], { rate: 5, periodMs: 1000, burst: 5 });
  assert.equal(rules.api.perRoute['POST /v1/users'], false);
  assert.deepEqual(rules.api.perRoute['POST /v1/invites/accept'], defaultRateLimitRules.api.perRoute['POST /v1/invites/accept']);
  assert.equal(rules.bytes.perTunnel, false);
  assert.notEqual(defaultRateLimitRules.upgrades.perAddress, false, 'the defaults object is never changed');
});

test('resolveRateLimitRules refuses what cannot work with INVALID_CONFIG, naming its path', () => {
  const cases: [unknown, RegExp][] = [
    [[], /^rateLimits must be an object/],
    [{ streams: {} }, /unknown rate limit group rateLimits\.streams/],
    [{ opens: { perUser: false } }, /unknown rate limit rateLimits\.opens\.perUser/],
    [{ opens: { perTunnel: { rate: 1, periodMs: 1000 } } }, /rateLimits\.opens\.perTunnel\.burst must be a positive integer/],
    [{ opens: { perTunnel: { rate: 1, periodMs: 1000, burst: 1, per: 'x' } } }, /unknown field rateLimits\.opens\.perTunnel\.per/],
    [{ opens: { perTunnel: 'fast' } }, /rateLimits\.opens\.perTunnel must be an object/],
    [{ signInFailures: { perName: { rate: 1, periodMs: 1000, burst: 1, lockoutMs: 'long' } } }, /perName\.lockoutMs/],
    [{ api: { perRoute: { '/v1/tunnels': false } } }, /perRoute keys are routes like "POST \/v1\/invites\/accept"/],
    [{ api: { perRoute: { 'GET /v1/tunnels': { rate: 0, periodMs: 1, burst: 1 } } } }, /rateLimits\.api\.perRoute\["GET \/v1\/tunnels"\]\.rate/],
  ];
  for (const [input, message] of cases) assert.throws(() => resolveRateLimitRules(input), { code: ErrorCode.INVALID_CONFIG, message }, JSON.stringify(input));
});

test('keys: plain short values stay readable, anything else is a fixed-size hash without braces', () => {
  assert.equal(RateKeys.openTunnel('web-1'), 'open:tunnel:web-1');
  const hostile = RateKeys.openTunnel(`{slot}${'x'.repeat(10_000)}`);
  assert.match(hostile, /^open:tunnel:h\.[A-Za-z0-9_-]{22}$/);
  assert.equal(RateKeys.openTunnel(`{slot}${'x'.repeat(10_000)}`), hostile, 'stable');
  assert.notEqual(keyPart('a:b'), keyPart('a_b'));
  assert.equal(RateKeys.apiRoute('post', '/v1/tunnels/:name/invites', 7), 'api:route:POST+/v1/tunnels/=name/invites:id:7');
  assert.equal(RateKeys.signInName('alice'), 'signin:name:alice');
});

test('keys: addresses are grouped so one host cannot mint buckets: IPv4 as is, mapped IPv4 unmapped, IPv6 by /64', () => {
  const cases: [string, string][] = [
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:aaaa::1', '2001.db8.1.2/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001.db8.1.2/64'],
    ['2001:db8::', '2001.db8.0.0/64'],
    ['::1', '0.0.0.0/64'],
    ['fe80::1%eth0', 'fe80.0.0.0/64'],
    ['64:ff9b::1.2.3.4', '64.ff9b.0.0/64'],
  ];
  for (const [address, part] of cases) assert.equal(addressPart(address), part, address);
  assert.equal(RateKeys.apiAddress('2001:db8:1:2::5'), RateKeys.apiAddress('2001:db8:1:2::6'));
});
