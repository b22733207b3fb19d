import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SUBPROTOCOL } from '@tether/shared';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, upgradeRefusal } from '../test-support/testing.js';
import { signAdminSession } from './admin-session.js';

type Body = { code: string; message: string };
const HOUR = 3_600_000;

/** The `tether_admin=...` pair of a Set-Cookie header. */
const cookieOf = (setCookie: string | string[] | undefined): string => String(setCookie).split(';')[0];

test('sign-in: wrong tokens refused (401) and counted; a user who is not an admin refused (403); the admin gets a cookie and a CSRF token', HANG_GUARD, async (t) => {
  const audit = new MemoryAuditSink();
  const relay = await createTestRelay(t, {}, ':memory:', { audit, rateLimits: { signInFailures: { perAddress: { rate: 1, periodMs: HOUR, burst: 2, lockoutMs: HOUR } } } });
  const alice = await createUser(relay, 'alice');
  const signIn = (payload: unknown) => relay.app.inject({ method: 'POST', url: '/admin/api/session', payload: payload as object });

  const notAdmin = await signIn({ token: alice });
  assert.deepEqual([notAdmin.statusCode, notAdmin.json<Body>().code], [403, ErrorCode.FORBIDDEN]);
  assert.equal(notAdmin.headers['set-cookie'], undefined);
  for (const bad of [{}, { token: '' }, { token: 'x'.repeat(600) }, { token: 1 }, { token: 'a', more: 1 }]) {
    const res = await signIn(bad);
    assert.deepEqual([res.statusCode, res.json<Body>().code], [400, ErrorCode.INVALID_ARGUMENT], JSON.stringify(bad));
  }
  const oversize = await relay.app.inject({ method: 'POST', url: '/admin/api/session', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: 'y'.repeat(5000) }) });
  assert.deepEqual([oversize.statusCode, oversize.json<Body>().code], [413, ErrorCode.INVALID_ARGUMENT]);

  const ok = await signIn({ token: ADMIN_TOKEN });
  assert.equal(ok.statusCode, 200);
  const { name, csrf } = ok.json<{ name: string; csrf: string }>();
  assert.equal(name, 'admin');
  assert.match(String(ok.headers['set-cookie']), /^tether_admin=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
  assert.equal(ok.headers['cache-control'], 'no-store');
  assert.ok(!String(ok.headers['set-cookie']).includes(ADMIN_TOKEN), 'the token is not in the cookie');
  const cookie = cookieOf(ok.headers['set-cookie']);
  const status = await relay.app.inject({ method: 'GET', url: '/admin/api/session', headers: { cookie } });
  assert.deepEqual(status.json(), { name: 'admin', csrf });

  for (let i = 0; i < 2; i++) {
    const wrong = await signIn({ token: `guess-${i}` });
    assert.deepEqual([wrong.statusCode, wrong.json<Body>().code], [401, ErrorCode.UNAUTHORIZED]);
  }
  const locked = await signIn({ token: ADMIN_TOKEN });
  assert.deepEqual([locked.statusCode, locked.json<Body>().code], [429, ErrorCode.RATE_LIMITED]);

  const codes = audit.events().map((e) => `${e.code} ${e.action}`);
  assert.equal(codes.filter((c) => c === 'auth.failed admin.sign_in').length, 3);
  assert.equal(codes.filter((c) => c === 'admin.signed_in admin.sign_in').length, 1);
  assert.ok(audit.events().filter((e) => e.code === 'auth.failed').every((e) => !JSON.stringify(e).includes('guess-')), 'tokens are never written');
});

test('the cookie is an identity on every route; state-changing calls need the CSRF header (403 without it, changing nothing)', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  const ok = await relay.app.inject({ method: 'POST', url: '/admin/api/session', payload: { token: ADMIN_TOKEN } });
  const cookie = cookieOf(ok.headers['set-cookie']);
  const { csrf } = ok.json<{ csrf: string }>();

  const users = await relay.app.inject({ method: 'GET', url: '/v1/users', headers: { cookie } });
  assert.deepEqual([users.statusCode, users.json()], [200, { users: [] }]);
  for (const headers of [{ cookie }, { cookie, 'x-tether-csrf': 'wrong' }, { cookie, 'x-tether-csrf': `${csrf}x` }]) {
    const refused = await relay.app.inject({ method: 'POST', url: '/v1/users', headers, payload: { name: 'mallory' } });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json<Body>().code, ErrorCode.FORBIDDEN);
    assert.match(refused.json<Body>().message, /^CSRF check failed/);
  }
  assert.deepEqual((await relay.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(ADMIN_TOKEN) })).json(), { users: [] });
  const created = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: { cookie, 'x-tether-csrf': csrf }, payload: { name: 'bob' } });
  assert.equal(created.statusCode, 201);

  // A bearer token wins over the cookie (the CLI and the API keep working as they did).
  const asBob = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: { cookie, ...bearer(created.json<{ token: string }>().token) } });
  assert.equal(asBob.json<{ name: string }>().name, 'bob');

  // Sign-out needs the CSRF token too, then the cookie is gone.
  const noCsrf = await relay.app.inject({ method: 'DELETE', url: '/admin/api/session', headers: { cookie } });
  assert.equal(noCsrf.statusCode, 403);
  const out = await relay.app.inject({ method: 'DELETE', url: '/admin/api/session', headers: { cookie, 'x-tether-csrf': csrf } });
  assert.equal(out.statusCode, 204);
  assert.match(String(out.headers['set-cookie']), /^tether_admin=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
});

test('the cookie opens no WebSocket: an upgrade with only the dashboard cookie is refused (a same-site page could send it)', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const ok = await relay.app.inject({ method: 'POST', url: '/admin/api/session', payload: { token: ADMIN_TOKEN } });
  const cookie = cookieOf(ok.headers['set-cookie']);
  for (const path of ['/v1/connect', '/v1/host?tunnel=web']) {
    const refused = await upgradeRefusal(relay, path, { cookie, origin: 'http://evil.tunnels.example' }, [SUBPROTOCOL]);
    assert.equal(refused.status, 401, path);
    assert.equal(refused.body.code, ErrorCode.UNAUTHORIZED);
    assert.match(refused.body.message, /does not open tunnel connections/);
  }
  assert.equal(relay.router.linkCount(), 0);
});

test('bad cookies: malformed, forged, expired, or of a token no longer an admin, each a coded 401', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  const secret = await relay.store.sharedSecret('admin-session');
  const adminHash = (await import('../tokens.js')).hashToken(ADMIN_TOKEN);
  const bob = await createUser(relay, 'bob');
  const bobHash = (await import('../tokens.js')).hashToken(bob);
  const cases: [string, string, RegExp][] = [
    ['malformed', 'tether_admin=garbage', /malformed/],
    ['forged', `tether_admin=${await signAdminSession('not-the-relay-secret-0123456789-0123', { tokenHash: adminHash, csrf: 'c'.repeat(43) }, Date.now(), HOUR)}`, /not valid on this relay/],
    ['expired', `tether_admin=${await signAdminSession(secret, { tokenHash: adminHash, csrf: 'c'.repeat(43) }, Date.now() - 2 * HOUR, HOUR)}`, /expired/],
    ['not an admin', `tether_admin=${await signAdminSession(secret, { tokenHash: bobHash, csrf: 'c'.repeat(43) }, Date.now(), HOUR)}`, /no longer a relay admin/],
    ['unknown token', `tether_admin=${await signAdminSession(secret, { tokenHash: 'ef'.repeat(32), csrf: 'c'.repeat(43) }, Date.now(), HOUR)}`, /no longer valid/],
  ];
  for (const [name, cookie, message] of cases) {
    for (const url of ['/v1/users', '/admin/api/session']) {
      const res = await relay.app.inject({ method: 'GET', url, headers: { cookie } });
      assert.deepEqual([res.statusCode, res.json<Body>().code], [401, ErrorCode.UNAUTHORIZED], `${name} on ${url}`);
      assert.match(res.json<Body>().message, message, name);
    }
  }
  const none = await relay.app.inject({ method: 'GET', url: '/admin/api/session' });
  assert.deepEqual([none.statusCode, none.json<Body>().code], [401, ErrorCode.UNAUTHORIZED]);
  // Signing out with a cookie that is no longer a session just removes it.
  const out = await relay.app.inject({ method: 'DELETE', url: '/admin/api/session', headers: { cookie: cases[2][1] } });
  assert.equal(out.statusCode, 204);
});
