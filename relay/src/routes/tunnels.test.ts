import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { ADMIN_IDENTITY } from '../identity.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, openLink, waitFor, type TestRelay } from '../test-support/testing.js';

interface TunnelView { name: string; owner: string; online: boolean; createdAt: string; lastHostedAt: string | null }

async function listTunnels(relay: TestRelay, token: string): Promise<TunnelView[]> {
  const res = await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) });
  assert.equal(res.statusCode, 200);
  return res.json<{ tunnels: TunnelView[] }>().tunnels;
}

test('GET /v1/tunnels shows a user only its own tunnels; the admin sees all', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  await openLink(relay, '/v1/host?tunnel=web', alice);
  await relay.store.claimTunnel('db', (await relay.store.findUserByName('bob'))!.id);
  await relay.store.claimTunnel('ops', ADMIN_IDENTITY.id);

  const mine = await listTunnels(relay, alice);
  assert.deepEqual(mine.map((v) => [v.name, v.owner, v.online]), [['web', 'alice', true]]);
  assert.ok(mine[0].lastHostedAt !== null);
  assert.deepEqual((await listTunnels(relay, bob)).map((v) => [v.name, v.owner, v.online]), [['db', 'bob', false]]);
  assert.deepEqual((await listTunnels(relay, ADMIN_TOKEN)).map((v) => [v.name, v.owner, v.online]), [
    ['db', 'bob', false],
    ['ops', 'admin', false],
    ['web', 'alice', true],
  ]);
  const carol = await createUser(relay, 'carol');
  assert.deepEqual(await listTunnels(relay, carol), []);
});

test('GET /v1/tunnels/:name refuses with a code and reports the online flag', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  await relay.store.claimTunnel('db', (await relay.store.findUserByName('bob'))!.id);
  const host = await openLink(relay, '/v1/host?tunnel=web', alice);

  const cases: [string, string, string, number, string][] = [
    ['unknown tunnel', alice, 'nope', 404, ErrorCode.TUNNEL_UNKNOWN],
    // 404, as for a name nobody holds: a caller learns nothing about tunnels it may not see.
    ["another user's tunnel", alice, 'db', 404, ErrorCode.TUNNEL_UNKNOWN],
    ["another user's online tunnel", bob, 'web', 404, ErrorCode.TUNNEL_UNKNOWN],
    ['uppercase name', alice, 'Web', 400, ErrorCode.INVALID_TUNNEL_NAME],
    ['dot in the name', alice, 'web.example', 400, ErrorCode.INVALID_TUNNEL_NAME],
    ['encoded traversal', alice, '..%2Fetc', 400, ErrorCode.INVALID_TUNNEL_NAME],
    ['unicode', alice, encodeURIComponent('wéb'), 400, ErrorCode.INVALID_TUNNEL_NAME],
    ['64 characters', alice, 'a'.repeat(64), 400, ErrorCode.INVALID_TUNNEL_NAME],
    ['far too long for the router', alice, 'a'.repeat(300), 414, ErrorCode.INVALID_ARGUMENT],
    ['malformed percent-encoding', alice, 'web%E0%A4%A', 400, ErrorCode.INVALID_ARGUMENT],
  ];
  for (const [name, token, tunnel, status, code] of cases) {
    const res = await relay.app.inject({ method: 'GET', url: `/v1/tunnels/${tunnel}`, headers: bearer(token) });
    assert.equal(res.statusCode, status, name);
    assert.equal(res.json<{ code: string }>().code, code, name);
  }

  const online = await relay.app.inject({ method: 'GET', url: '/v1/tunnels/web', headers: bearer(alice) });
  assert.equal(online.statusCode, 200);
  assert.equal(online.json<TunnelView>().online, true);
  assert.equal(online.json<TunnelView>().owner, 'alice');

  host.close();
  await host.closed;
  await waitFor(() => relay.router.hostFor('web') === undefined);
  const offline = await relay.app.inject({ method: 'GET', url: '/v1/tunnels/web', headers: bearer(alice) });
  assert.equal(offline.statusCode, 200);
  assert.equal(offline.json<TunnelView>().online, false);
  assert.notEqual(offline.json<TunnelView>().lastHostedAt, null);
});

test('DELETE /v1/tunnels/:name releases a name: its owner or the admin, never while shared, never someone else', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  const del = (name: string, token: string) => relay.app.inject({ method: 'DELETE', url: `/v1/tunnels/${name}`, headers: bearer(token) });
  const host = await openLink(relay, '/v1/host?tunnel=web', alice);
  await relay.store.claimTunnel('db', (await relay.store.findUserByName('bob'))!.id);

  const refused: [string, string, string, number, string][] = [
    ['while shared', alice, 'web', 409, ErrorCode.TUNNEL_IN_USE],
    ["another user's tunnel", alice, 'db', 404, ErrorCode.TUNNEL_UNKNOWN],
    ['a name nobody holds', alice, 'nope', 404, ErrorCode.TUNNEL_UNKNOWN],
    ['a bad name', alice, 'No', 400, ErrorCode.INVALID_TUNNEL_NAME],
  ];
  for (const [name, token, tunnel, status, code] of refused) {
    const res = await del(tunnel, token);
    assert.deepEqual([res.statusCode, res.json<{ code: string }>().code], [status, code], name);
  }
  host.close();
  await waitFor(() => relay.router.hostFor('web') === undefined);
  assert.equal((await del('web', alice)).statusCode, 204);
  assert.equal(await relay.store.getTunnel('web'), undefined);
  assert.equal((await del('db', ADMIN_TOKEN)).statusCode, 204, "the admin releases anyone's");
  // The name is free: bob can claim it now.
  await openLink(relay, '/v1/host?tunnel=web', bob);
  assert.equal((await relay.store.getTunnel('web'))?.ownerName, 'bob');
});
