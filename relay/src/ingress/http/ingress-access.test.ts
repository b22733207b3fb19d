import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ErrorCode } from '@tether/shared';
import { hashToken } from '../../tokens.js';
import { IngressAccess, type SignInGuard } from './ingress-access.js';
import { identifyByHash } from '../../auth.js';

const ADMIN = 'admin-token-0001';
const ALICE = 'tth_alice';
const users = new Map([[hashToken(ALICE), { id: 7, name: 'alice' }]]);

/** Locks an address out after `max` failures (the relay uses its rate limits' sign-in rules). */
function guard(max: number): SignInGuard & { failures: Map<string, number> } {
  const failures = new Map<string, number>();
  return {
    failures,
    allowed: async (address) => ({ allowed: (failures.get(address) ?? 0) < max, retryAfterMs: 60_000 }),
    failed: async (address) => void failures.set(address, (failures.get(address) ?? 0) + 1),
  };
}

function access(g?: SignInGuard): IngressAccess {
  return new IngressAccess({ identify: identifyByHash(ADMIN, async (h) => users.get(h)), secret: async () => 'secret-of-the-store-0001', guard: g });
}

test('wrong tokens count as failed sign-ins per address, and a locked-out address is told when to try again', async () => {
  const g = guard(2);
  const a = access(g);
  const settings = { http: 'http1' as const };
  for (let i = 0; i < 2; i++) {
    const d = await a.decide('vault', settings, { authorization: 'Bearer tth_guess' }, '10.0.0.9');
    assert.equal(d.allowed ? '' : d.error.code, ErrorCode.UNAUTHORIZED);
  }
  const locked = await a.decide('vault', settings, { authorization: `Bearer ${ALICE}` }, '10.0.0.9');
  assert.equal(locked.allowed ? '' : locked.error.code, ErrorCode.RATE_LIMITED, 'even the right token, while locked out');
  assert.equal(locked.allowed ? 0 : locked.error.retryAfterMs, 60_000);
  assert.equal((await a.decide('vault', settings, { authorization: `Bearer ${ALICE}` }, '10.0.0.10')).allowed, true, 'another address');
  // No credential at all is not a guess.
  await a.decide('vault', settings, {}, '10.0.0.11');
  assert.equal(g.failures.get('10.0.0.11'), undefined);
  // The sign-in form counts too.
  const form = await a.signIn('vault', settings, 'tth_guess', '10.0.0.12');
  assert.equal('error' in form ? form.error.code : '', ErrorCode.UNAUTHORIZED);
  assert.equal(g.failures.get('10.0.0.12'), 1);
});

test('identities: the admin token, a user token, nobody', async () => {
  const identify = identifyByHash(ADMIN, async (h) => users.get(h));
  assert.deepEqual(await identify(hashToken(ADMIN)), { name: 'admin', id: 0, admin: true });
  assert.deepEqual(await identify(hashToken(ALICE)), { name: 'alice', id: 7, admin: false });
  assert.equal(await identify(hashToken('nobody')), undefined);
  assert.equal(await identify('not-a-hash'), undefined);
});

test('public tunnels need nothing; token tunnels need theirs; a public tunnel has no sign-in', async () => {
  const a = access();
  const pub = await a.decide('web', { http: 'http1', access: 'public' }, {});
  assert.deepEqual(pub.allowed && [pub.identity.name, pub.identity.visitor], ['visitor:web', { tunnel: 'web', access: 'public' }]);
  const sha = createHash('sha256').update('a-club-access-token').digest('hex');
  const club = { http: 'http1' as const, access: 'token' as const, accessTokenSha256: sha };
  assert.equal((await a.decide('club', club, { 'tether-access-token': 'a-club-access-token' })).allowed, true);
  assert.equal((await a.decide('club', club, { 'tether-access-token': ['a', 'b'] })).allowed, false);
  const none = await a.signIn('web', { http: 'http1', access: 'public' }, 'x');
  assert.equal('error' in none ? none.error.code : '', ErrorCode.INVALID_ARGUMENT);
});
