import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, encodeOpen, encodeOpenOk, ErrorCode, FrameType, SUBPROTOCOL, WireCode } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, openLink, upgradeRefusal, waitFor } from '../test-support/testing.js';

test('an upgrade without tether.v1 is refused with 400 TETHER_ERR_UNSUPPORTED_VERSION', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const offers: [string, string[] | undefined][] = [
    ['no subprotocol', undefined],
    ['a future version', ['tether.v2']],
    ['an unrelated protocol', ['chat']],
    ['a prefix of the version', ['tether']],
  ];
  for (const path of ['/v1/host?tunnel=web', '/v1/connect']) {
    for (const [name, protocols] of offers) {
      const refusal = await upgradeRefusal(relay, path, bearer(token), protocols);
      assert.equal(refusal.status, 400, `${path} with ${name}`);
      assert.equal(refusal.body.code, ErrorCode.UNSUPPORTED_VERSION, `${path} with ${name}`);
    }
  }
  assert.equal((await relay.store.getTunnel('web')), undefined);
  assert.deepEqual([relay.router.stats().hosts, relay.router.stats().connectors], [0, 0]);
});

test('tether.v1 among other offers is the protocol agreed', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const client = await openLink(relay, '/v1/connect', token, ['tether.v2', SUBPROTOCOL]);
  assert.equal(client.ws.protocol, SUBPROTOCOL);
});

test('/v1/host needs a valid tunnel name', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const cases: [string, string, string][] = [
    ['no tunnel', '/v1/host', ErrorCode.INVALID_ARGUMENT],
    ['empty', '/v1/host?tunnel=', ErrorCode.INVALID_TUNNEL_NAME],
    ['uppercase', '/v1/host?tunnel=Web', ErrorCode.INVALID_TUNNEL_NAME],
    ['traversal', '/v1/host?tunnel=..%2Fetc', ErrorCode.INVALID_TUNNEL_NAME],
    ['unicode', `/v1/host?tunnel=${encodeURIComponent('wéb')}`, ErrorCode.INVALID_TUNNEL_NAME],
    ['trailing dash', '/v1/host?tunnel=web-', ErrorCode.INVALID_TUNNEL_NAME],
    ['64 characters', `/v1/host?tunnel=${'a'.repeat(64)}`, ErrorCode.INVALID_TUNNEL_NAME],
    ['far too long', `/v1/host?tunnel=${'a'.repeat(300)}`, ErrorCode.INVALID_ARGUMENT],
  ];
  for (const [name, path, code] of cases) {
    const refusal = await upgradeRefusal(relay, path, bearer(token), [SUBPROTOCOL]);
    assert.equal(refusal.status, 400, name);
    assert.equal(refusal.body.code, code, name);
  }
  assert.deepEqual(await relay.store.listTunnels(), []);
});

test("a user's first host claims the name; another user cannot host it", HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  await openLink(relay, '/v1/host?tunnel=web', alice);
  const record = (await relay.store.getTunnel('web'));
  assert.equal(record?.ownerName, 'alice');
  assert.notEqual(record?.lastHostedAt, null);
  assert.equal(relay.router.stats().hosts, 1);

  const refusal = await upgradeRefusal(relay, '/v1/host?tunnel=web', bearer(bob), [SUBPROTOCOL]);
  assert.equal(refusal.status, 403);
  assert.equal(refusal.body.code, ErrorCode.TUNNEL_FORBIDDEN);
  // Even the admin cannot take a user's tunnel.
  const byAdmin = await upgradeRefusal(relay, '/v1/host?tunnel=web', bearer(ADMIN_TOKEN), [SUBPROTOCOL]);
  assert.equal(byAdmin.status, 403);
  assert.equal(byAdmin.body.code, ErrorCode.TUNNEL_FORBIDDEN);
  assert.equal((await relay.store.getTunnel('web'))?.ownerName, 'alice');
});

test('a second host for an online tunnel gets 409 TETHER_ERR_TUNNEL_IN_USE; it may host once the first leaves', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const first = await openLink(relay, '/v1/host?tunnel=web', alice);
  first.autoPong = true; // alive: it answers the relay's probe
  const refusal = await upgradeRefusal(relay, '/v1/host?tunnel=web', bearer(alice), [SUBPROTOCOL]);
  assert.equal(refusal.status, 409);
  assert.equal(refusal.body.code, ErrorCode.TUNNEL_IN_USE);
  assert.equal(first.ws.readyState, first.ws.OPEN);

  first.close();
  await first.closed;
  await waitFor(() => relay.router.hostFor('web') === undefined);
  const second = await openLink(relay, '/v1/host?tunnel=web', alice);
  assert.equal(second.ws.protocol, SUBPROTOCOL);
  assert.equal(relay.router.stats().hosts, 1);
});

test('while draining, both endpoints refuse upgrades with 503 TETHER_ERR_GOING_AWAY', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  await relay.router.drain();
  for (const path of ['/v1/host?tunnel=web', '/v1/connect']) {
    const refusal = await upgradeRefusal(relay, path, bearer(alice), [SUBPROTOCOL]);
    assert.equal(refusal.status, 503, path);
    assert.equal(refusal.body.code, ErrorCode.GOING_AWAY, path);
  }
});

test('a host link that does not answer the probe is replaced by the same user\'s new one; its streams are reset with PEER_GONE', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { hostProbeMs: 200 });
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const stale = await openLink(relay, '/v1/host?tunnel=web', alice); // never answers PINGs
  const connector = await openLink(relay, '/v1/connect', alice);
  connector.send(encodeOpen(1, 65_536, 'web'));
  const open = await stale.nextOf(FrameType.OPEN);
  stale.send(encodeOpenOk(open.streamId, 65_536));
  await connector.nextOf(FrameType.OPEN_OK, 1);

  const fresh = await openLink(relay, '/v1/host?tunnel=web', alice);
  assert.equal(fresh.ws.protocol, SUBPROTOCOL);
  assert.deepEqual(await stale.closed, { code: CloseCode.REPLACED, reason: ErrorCode.PEER_GONE });
  assert.equal((await connector.nextOf(FrameType.RESET, 1)).code, WireCode.PEER_GONE);
  assert.equal(relay.router.stats().hosts, 1);
  // New streams reach the new link.
  connector.send(encodeOpen(3, 65_536, 'web'));
  assert.equal((await fresh.nextOf(FrameType.OPEN)).tunnel, 'web');
});

test('quotas before the upgrade: links per identity and per address, tunnel names, registrations per minute (429 QUOTA_EXCEEDED, RATE_LIMITED)', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { maxLinksPerUser: 2, maxLinksPerAddress: 3, maxTunnelsPerUser: 2, maxRegistrationsPerMinute: 4 });
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  const links = [await openLink(relay, '/v1/connect', alice), await openLink(relay, '/v1/connect', alice)];
  const third = await upgradeRefusal(relay, '/v1/connect', bearer(alice), [SUBPROTOCOL]);
  assert.deepEqual([third.status, third.body.code], [429, ErrorCode.QUOTA_EXCEEDED]);
  assert.match(third.body.message, /alice already has 2 connections/);
  // Bob may connect, up to the address's limit (everyone here comes from 127.0.0.1).
  links.push(await openLink(relay, '/v1/connect', bob));
  const fourth = await upgradeRefusal(relay, '/v1/connect', bearer(bob), [SUBPROTOCOL]);
  assert.deepEqual([fourth.status, fourth.body.code], [429, ErrorCode.QUOTA_EXCEEDED]);
  assert.match(fourth.body.message, /from 127\.0\.0\.1/);
  // The admin is not held to the per-identity limit, but to the address's.
  assert.equal((await upgradeRefusal(relay, '/v1/connect', bearer(ADMIN_TOKEN), [SUBPROTOCOL])).status, 429);
  for (const link of links) {
    link.close();
    await link.closed;
  }
  await waitFor(() => relay.router.stats().connectors === 0);

  // Two names for bob, then no third; each registration counts against his rate.
  for (const name of ['b1', 'b2']) {
    const host = await openLink(relay, `/v1/host?tunnel=${name}`, bob);
    host.close();
    await host.closed;
  }
  const name3 = await upgradeRefusal(relay, '/v1/host?tunnel=b3', bearer(bob), [SUBPROTOCOL]);
  assert.deepEqual([name3.status, name3.body.code], [429, ErrorCode.QUOTA_EXCEEDED]);
  assert.match(name3.body.message, /tether tunnel delete/);
  // Reconnecting to a name he holds is fine, until the rate is used up (4 per minute: 3 used).
  await waitFor(() => relay.router.hostFor('b2') === undefined);
  const again = await openLink(relay, '/v1/host?tunnel=b2', bob);
  again.close();
  await again.closed;
  await waitFor(() => relay.router.hostFor('b2') === undefined);
  const tooOften = await upgradeRefusal(relay, '/v1/host?tunnel=b2', bearer(bob), [SUBPROTOCOL]);
  assert.deepEqual([tooOften.status, tooOften.body.code], [429, ErrorCode.RATE_LIMITED]);
  assert.match(tooOften.body.message, /^bob shared tunnels too often \(retry in \d+(\.\d)? s\)$/);
  assert.match(String(tooOften.headers['retry-after']), /^\d+$/);
});
