import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOpen, encodeWindow, ErrorCode, errorFromWire, FrameType, WireCode } from '@tether/shared';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, hostAndConnector, openLink, openStream, upgradeRefusal } from '../test-support/testing.js';

const HOUR = 3_600_000;
type Body = { code: string; message: string };
/** `burst` events, then one an hour: nothing refills while a test runs. */
const tight = (burst: number, extra: object = {}) => ({ rate: 1, periodMs: HOUR, burst, ...extra });
const decisions = 'tether_rate_limit_decisions_total';

test('API calls past the per-address rule: 429 RATE_LIMITED with Retry-After; RateLimit headers before; probes and the admin not counted', HANG_GUARD, async (t) => {
  const metrics = new MemoryMetrics();
  const relay = await createTestRelay(t, {}, ':memory:', { metrics, rateLimits: { api: { perAddress: tight(3) } } });
  // The user is made by the admin, whose calls are not limited.
  const token = await createUser(relay, 'alice');
  for (const remaining of [2, 1, 0]) {
    const ok = await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['ratelimit-limit'], '3');
    assert.equal(ok.headers['ratelimit-remaining'], String(remaining));
  }
  const refused = await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) });
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.json<Body>().code, ErrorCode.RATE_LIMITED);
  assert.match(refused.json<Body>().message, /^too many API requests from 127\.0\.0\.1 \(retry in \d+(\.\d)? s\)$/);
  // One an hour once the burst is used: the next is due in an hour.
  const retryAfter = Number(refused.headers['retry-after']);
  assert.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
  assert.equal((await relay.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(ADMIN_TOKEN) })).statusCode, 200);
  assert.equal(metrics.value(decisions, { kind: 'api', rule: 'api.perAddress', outcome: 'refused' }), 1);
  assert.equal(metrics.value(decisions, { kind: 'api', rule: '', outcome: 'allowed' }), 3);
});

test('per-route rules apply on top, per identity: one user using up a route leaves others and other routes alone', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { rateLimits: { api: { perRoute: { 'GET /v1/whoami': tight(1) } } } });
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(alice) })).statusCode, 200);
  const refused = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(alice) });
  assert.equal(refused.statusCode, 429);
  assert.match(refused.json<Body>().message, /^too many GET \/v1\/whoami requests by alice \(retry in/);
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(bob) })).statusCode, 200);
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(alice) })).statusCode, 200);
});

test('failed sign-ins lock the address out: even a good token is refused (429) until the lockout ends; audited', HANG_GUARD, async (t) => {
  const metrics = new MemoryMetrics();
  const relay = await createTestRelay(t, {}, ':memory:', { metrics, rateLimits: { signInFailures: { perAddress: tight(2, { lockoutMs: 15 * 60_000 }) } } });
  const token = await createUser(relay, 'alice');
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) })).statusCode, 200);
  for (let i = 0; i < 2; i++) {
    const wrong = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(`guess-${i}`) });
    assert.equal(wrong.statusCode, 401);
  }
  const locked = await relay.app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(token) });
  assert.equal(locked.statusCode, 429);
  assert.match(locked.json<Body>().message, /^too many failed sign-ins from 127\.0\.0\.1: locked out; check the token \(retry in \d+(\.\d)? s\)$/);
  assert.ok(Number(locked.headers['retry-after']) > 14 * 60, `locked for the lockout: ${locked.headers['retry-after']}`);
  // Upgrades too: a locked address cannot try tokens over WebSocket either.
  await relay.listen();
  const upgrade = await upgradeRefusal(relay, '/v1/connect', bearer(token), ['tether.v1']);
  assert.deepEqual([upgrade.status, upgrade.body.code], [429, ErrorCode.RATE_LIMITED]);
  assert.equal(metrics.value(decisions, { kind: 'sign-in', rule: 'signInFailures.perAddress', outcome: 'refused' }), 2);
  // Requests without a token try nothing: the health probe still answers.
  assert.equal((await relay.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

test('WebSocket upgrades past the per-identity rule are refused before the upgrade, with Retry-After', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { rateLimits: { upgrades: { perIdentity: tight(1) } } });
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const first = await openLink(relay, '/v1/connect', token);
  const second = await upgradeRefusal(relay, '/v1/connect', bearer(token), ['tether.v1']);
  assert.deepEqual([second.status, second.body.code], [429, ErrorCode.RATE_LIMITED]);
  assert.match(second.body.message, /^too many connections to the relay by alice \(retry in/);
  assert.match(String(second.headers['retry-after']), /^\d+$/);
  first.close();
});

test('stream opens past the per-tunnel rule: OPEN_ERR RATE_LIMITED saying when; strangers refused access do not use the tunnel up', HANG_GUARD, async (t) => {
  const metrics = new MemoryMetrics();
  const relay = await createTestRelay(t, {}, ':memory:', { metrics, rateLimits: { opens: { perTunnel: tight(2) } } });
  await relay.listen();
  const pair = await hostAndConnector(relay, 'web');
  // A stranger's opens are refused for access first (the tunnel is not even shown to exist),
  // and cost the tunnel nothing.
  const mallory = await openLink(relay, '/v1/connect', await createUser(relay, 'mallory'));
  for (const id of [1, 3, 5]) {
    mallory.send(encodeOpen(id, 65_536, 'web'));
    assert.equal((await mallory.nextOf(FrameType.OPEN_ERR, id)).code, WireCode.TUNNEL_UNKNOWN);
  }
  await openStream(pair, 1);
  await openStream(pair, 3);
  pair.connector.send(encodeOpen(5, 65_536, 'web'));
  const refused = await pair.connector.nextOf(FrameType.OPEN_ERR, 5);
  assert.equal(refused.code, WireCode.RATE_LIMITED);
  assert.match(refused.message, /^too many stream opens to tunnel web \(retry in \d+(\.\d)? s\)$/);
  const err = errorFromWire(refused.code, refused.message);
  assert.equal(err.code, ErrorCode.RATE_LIMITED);
  assert.ok(err.retryAfterMs! > 1_000_000, `retry after ${err.retryAfterMs} ms`);
  assert.equal(metrics.value(decisions, { kind: 'open', rule: 'opens.perTunnel', outcome: 'refused' }), 1);
  assert.equal(metrics.value(decisions, { kind: 'open', rule: '', outcome: 'allowed' }), 2);
  // The streams already open are not touched.
  assert.equal(relay.router.stats().streams, 2);
});

test('shadow mode: what would be refused is counted and passes', HANG_GUARD, async (t) => {
  const metrics = new MemoryMetrics();
  const relay = await createTestRelay(t, {}, ':memory:', { metrics, rateLimitShadow: true, rateLimits: { api: { perAddress: tight(1) }, opens: { perTunnel: tight(1) } } });
  await relay.listen();
  const token = await createUser(relay, 'alice');
  for (let i = 0; i < 3; i++) assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) })).statusCode, 200);
  assert.equal(metrics.value(decisions, { kind: 'api', rule: 'api.perAddress', outcome: 'shadow-refused' }), 2);
  const pair = await hostAndConnector(relay, 'web', 'bob');
  await openStream(pair, 1);
  await openStream(pair, 3);
  assert.equal(metrics.value(decisions, { kind: 'open', rule: 'opens.perTunnel', outcome: 'shadow-refused' }), 1);
});

test('rateLimits: false turns them off; a bad rule stops the relay from starting, naming its path', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { rateLimits: false });
  const token = await createUser(relay, 'alice');
  const res = await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['ratelimit-limit'], undefined);
  await assert.rejects(createTestRelay(t, {}, ':memory:', { rateLimits: { opens: { perTunnel: { rate: 0, periodMs: 1000, burst: 1 } } } }), (err: Error & { code?: string }) => {
    assert.equal(err.code, ErrorCode.INVALID_CONFIG);
    assert.match(err.message, /rateLimits\.opens\.perTunnel/);
    return true;
  });
  await assert.rejects(createTestRelay(t, {}, ':memory:', { rateLimits: 'many' }), { code: ErrorCode.INVALID_CONFIG });
});

test("byte rates shape, never drop: past the tunnel's byte burst, the credit its receiver grants is held, not passed on", HANG_GUARD, async (t) => {
  for (const shaped of [true, false]) {
    const relay = await createTestRelay(t, {}, ':memory:', shaped ? { rateLimits: { bytes: { perTunnel: tight(65_536) } } } : {});
    await relay.listen();
    const pair = await hostAndConnector(relay, 'web');
    const hostId = await openStream(pair, 1);
    // Within the burst: passed on at once.
    pair.host.send(encodeWindow(hostId, 65_536));
    assert.equal((await pair.connector.nextOf(FrameType.WINDOW, 1)).increment, 65_536);
    // Past it: held (the next byte of credit is an hour away), the stream still open.
    pair.host.send(encodeWindow(hostId, 1000));
    await pair.host.sync();
    await pair.connector.sync();
    const windows = pair.connector.pending().filter((f) => f.type === FrameType.WINDOW);
    assert.equal(windows.length, shaped ? 0 : 1, shaped ? 'held while the tunnel is past its byte rate' : 'without a byte rate, passed on');
    assert.equal(relay.router.stats().streams, 1);
  }
});

test('shaped credit is passed on once the wait is over, all of it, in one WINDOW', HANG_GUARD, async (t) => {
  // 64 KiB per 200 ms with a 64 KiB burst: the second 64 KiB of credit waits about 200 ms.
  const relay = await createTestRelay(t, {}, ':memory:', { rateLimits: { bytes: { perUser: { rate: 65_536, periodMs: 200, burst: 65_536 } } } });
  await relay.listen();
  const pair = await hostAndConnector(relay, 'web');
  const hostId = await openStream(pair, 1);
  pair.host.send(encodeWindow(hostId, 65_536));
  assert.equal((await pair.connector.nextOf(FrameType.WINDOW, 1)).increment, 65_536);
  pair.host.send(encodeWindow(hostId, 40_000), encodeWindow(hostId, 25_536));
  assert.equal((await pair.connector.nextOf(FrameType.WINDOW, 1)).increment, 65_536);
});
