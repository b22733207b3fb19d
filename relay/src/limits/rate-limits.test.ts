import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../registry/registry-contract.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { rateLimitHeaders, RateLimits, UNLIMITED } from './rate-limits.js';
import { resolveRateLimitRules } from './rules.js';

const perMinute = (n: number, extra: object = {}) => ({ rate: n, periodMs: 60_000, burst: n, ...extra });

function limits(overrides: object) {
  const clock = new ManualClock();
  return { clock, limits: new RateLimits(new MemoryRateLimitStore(clock), resolveRateLimitRules(overrides)) };
}

test('RateLimits.api: the address, the identity and the route each have a bucket; the first refusal answers', async () => {
  const { limits: l } = limits({ api: { perAddress: perMinute(5), perIdentity: perMinute(3), perRoute: { 'POST /v1/invites/accept': perMinute(1) } } });
  const alice = { identityId: 1, address: '198.51.100.1' };
  const accept = await l.api(alice, 'POST', '/v1/invites/accept');
  assert.equal(accept.allowed, true);
  assert.equal(accept.remaining, 0, 'the least left of the three');
  assert.equal((await l.api(alice, 'post', '/v1/invites/accept')).allowed, false, 'the route rule');
  assert.equal((await l.api(alice, 'GET', '/v1/tunnels')).allowed, true, 'another route, same identity');
  const third = await l.api(alice, 'GET', '/v1/tunnels');
  assert.equal(third.allowed, false, 'the identity rule: three taken (the refused accept took from it too)');
  assert.equal(third.retryAfterMs, 20_000);
  const bob = { identityId: 2, address: '198.51.100.1' };
  assert.equal((await l.api(bob, 'GET', '/v1/tunnels')).allowed, true, 'the fifth from 198.51.100.1 (refusals took from the address too)');
  assert.equal((await l.api(bob, 'GET', '/v1/tunnels')).allowed, false, 'the address rule');
  assert.equal((await l.api({ identityId: 3, address: '198.51.100.2' }, 'GET', '/v1/tunnels')).allowed, true);
  assert.equal(await l.api({ identityId: 0, address: '198.51.100.1', admin: true }, 'GET', '/v1/tunnels'), UNLIMITED);
});

test('RateLimits.open: the tunnel\'s bucket is shared by everyone who opens it; rules set to false are skipped', async () => {
  const { limits: l } = limits({ opens: { perTunnel: perMinute(2), perIdentity: false, perAddress: false } });
  assert.equal((await l.open({ identityId: 1, address: '192.0.2.1' }, 'web')).allowed, true);
  assert.equal((await l.open({ identityId: 2, address: '192.0.2.2' }, 'web')).allowed, true);
  assert.equal((await l.open({ identityId: 3, address: '192.0.2.3' }, 'web')).allowed, false);
  assert.equal((await l.open({ identityId: 3, address: '192.0.2.3' }, 'db')).allowed, true);
});

test('RateLimits sign-ins: N failures lock the name and the address for the lockout; success clears the name only', async () => {
  const { clock, limits: l } = limits({ signInFailures: { perName: perMinute(3, { lockoutMs: 900_000 }), perAddress: perMinute(5, { lockoutMs: 900_000 }) } });
  for (let i = 0; i < 3; i++) {
    assert.equal((await l.signInAllowed('203.0.113.5', 'alice')).allowed, true, `attempt ${i + 1}`);
    await l.signInFailed('203.0.113.5', 'alice');
  }
  const locked = await l.signInAllowed('203.0.113.7', 'alice');
  assert.deepEqual([locked.allowed, locked.retryAfterMs], [false, 900_000], 'alice is locked from any address');
  assert.equal((await l.signInAllowed('203.0.113.5', 'bob')).allowed, true, 'the address has two failures left');
  await l.signInFailed('203.0.113.5', 'bob');
  await l.signInFailed('203.0.113.5', 'bob');
  assert.equal((await l.signInAllowed('203.0.113.5', 'carol')).allowed, false, 'five failures from one address lock it');
  await l.signInSucceeded('alice');
  assert.equal((await l.signInAllowed('203.0.113.7', 'alice')).allowed, true, 'a success elsewhere cleared alice');
  clock.t += 900_000;
  assert.equal((await l.signInAllowed('203.0.113.5', 'carol')).allowed, true, 'the address lock is over');
});

test('rateLimitHeaders: limit, remaining, reset in seconds, Retry-After when refused, nothing when unlimited', () => {
  assert.deepEqual(rateLimitHeaders({ allowed: true, retryAfterMs: 0, remaining: 4, resetAfterMs: 1500, limit: 5 }), { 'ratelimit-limit': '5', 'ratelimit-remaining': '4', 'ratelimit-reset': '2' });
  assert.deepEqual(rateLimitHeaders({ allowed: false, retryAfterMs: 200, remaining: 0, resetAfterMs: 60_000, limit: 5 }), { 'ratelimit-limit': '5', 'ratelimit-remaining': '0', 'ratelimit-reset': '60', 'retry-after': '1' });
  assert.deepEqual(rateLimitHeaders(UNLIMITED), {});
});
