import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { encodeData, encodeOpen, encodeOpenOk, ErrorCode, FrameType, WireCode } from '@tether/shared';
import { buildApp } from '../app.js';
import { startRedis } from '../test-support/redis-server.js';
import { ADMIN_TOKEN, bearer, createUser, HANG_GUARD, openLink, waitFor, type TestRelay } from '../test-support/testing.js';
import type { SessionView } from '../routing/router-views.js';
import { SNAPSHOT_PATH, TERMINATE_PATH } from './cluster-views.js';

const SECRET = 'cluster-secret-for-tests-02';
const admin = bearer(ADMIN_TOKEN);
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

async function node(t: TestContext, id: string): Promise<TestRelay> {
  const app = await buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: redis!.server.url }, clusterSecret: SECRET, nodeId: id, version: `v-${id}` });
  const relay: TestRelay = { ...app, wsUrl: '', clients: new Set(), listen: async () => relay.wsUrl };
  relay.wsUrl = (await app.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
  await app.joined();
  t.after(async () => {
    for (const ws of relay.clients) ws.terminate();
    await app.app.close();
  });
  return relay;
}

test('cluster: every node lists the sessions and holders of all nodes; a session is terminated on its node; a tunnel disabled on one node is closed on the other', HANG_GUARD, async (t) => {
  const one = await node(t, 'views-one');
  const two = await node(t, 'views-two');
  const token = await createUser(one, 'nina');
  const host = await openLink(one, '/v1/host?tunnel=db', token);
  await waitFor(() => one.router.hostFor('db') !== undefined);
  const connector = await openLink(two, '/v1/connect', token);
  connector.send(encodeOpen(1, 65_536, 'db'));
  const open = await host.nextOf(FrameType.OPEN);
  host.send(encodeOpenOk(open.streamId, 65_536));
  await connector.nextOf(FrameType.OPEN_OK, 1);
  connector.send(encodeData(1, Buffer.from('ping')));
  await host.nextOf(FrameType.DATA, open.streamId);

  // Asked of node one (which holds the host), the session is node two's: its connector is there.
  const sessions = (await one.app.inject({ method: 'GET', url: '/v1/admin/sessions', headers: admin })).json<{ total: number; sessions: SessionView[]; unreachable: unknown[] }>();
  assert.deepEqual(sessions.unreachable, []);
  assert.equal(sessions.total, 1);
  const [session] = sessions.sessions;
  assert.equal(session.node, 'views-two');
  assert.deepEqual(session.path, ['views-two', 'views-one']);
  assert.equal(session.user, 'nina');
  assert.equal(session.tunnel, 'db');
  assert.equal(session.up, 4);

  const tunnels = (await two.app.inject({ method: 'GET', url: '/v1/admin/tunnels', headers: admin })).json<{ tunnels: { name: string; online: boolean; holders: { node: string }[]; streams: number }[] }>();
  assert.equal(tunnels.tunnels[0].online, true);
  assert.deepEqual(tunnels.tunnels[0].holders.map((h) => h.node), ['views-one']);
  assert.equal(tunnels.tunnels[0].streams, 1);

  const overview = (await one.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: admin })).json<{ nodes: { id: string; version: string; healthy: boolean; self: boolean }[]; tunnelsOnline: number; streams: number }>();
  assert.deepEqual(overview.nodes.map((n) => [n.id, n.version, n.healthy, n.self]), [['views-one', 'v-views-one', true, true], ['views-two', 'v-views-two', true, false]]);
  assert.equal(overview.tunnelsOnline, 1);
  assert.equal(overview.streams, 1);

  // Terminated through node one: node two resets it, and the host's end is reset over the peer link.
  const ended = await one.app.inject({ method: 'DELETE', url: `/v1/admin/sessions/${encodeURIComponent(session.id)}`, headers: admin });
  assert.equal(ended.statusCode, 204);
  assert.equal((await connector.nextOf(FrameType.RESET, 1)).code, WireCode.CANCELLED);
  assert.equal((await host.nextOf(FrameType.RESET, open.streamId)).code, WireCode.CANCELLED);

  // Disabled through node two: the host link on node one is closed, and its return refused.
  const hostClosed = host.closed;
  const disabled = await two.app.inject({ method: 'PUT', url: '/v1/tunnels/db/disabled', headers: admin, payload: { reason: 'maintenance' } });
  assert.equal(disabled.statusCode, 200);
  assert.equal((await hostClosed).code, 1008);
  connector.send(encodeOpen(3, 65_536, 'db'));
  assert.equal((await connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_DISABLED);
});

test('cluster: the node-to-node view endpoints answer only a proof made with the cluster secret', async (t) => {
  const one = await node(t, 'views-three');
  for (const [method, url] of [['GET', SNAPSHOT_PATH], ['POST', TERMINATE_PATH]] as const) {
    const bare = await one.app.inject({ method, url, payload: method === 'POST' ? { linkId: 1, streamId: 1, reason: 'x' } : undefined });
    assert.equal(bare.statusCode, 401, url);
    assert.equal(bare.json<{ code: string }>().code, ErrorCode.UNAUTHORIZED);
    // Not even the admin token opens them.
    assert.equal((await one.app.inject({ method, url, headers: admin })).statusCode, 401, url);
  }
});
