import assert from 'node:assert/strict';
import { test } from 'node:test';
import http from 'node:http';
import { encodeData, encodeOpen, ErrorCode, FrameType, SUBPROTOCOL, WireCode } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, hostAndConnector, openLink, openStream, upgradeRefusal, waitFor } from '../test-support/testing.js';
import type { SessionView } from '../routing/router-views.js';
import { ruleRows } from './admin-views.js';
import { MemoryAuditSink } from '../audit/memory-sink.js';

const admin = bearer(ADMIN_TOKEN);

test('sessions: one row per stream with user, tunnel, source, path, start and bytes; the admin terminates one and both ends are reset', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1);
  await openStream(pair, 3);
  pair.connector.send(encodeData(1, Buffer.from('hello')));
  await pair.host.nextOf(FrameType.DATA, hostId);

  const res = await relay.app.inject({ method: 'GET', url: '/v1/admin/sessions', headers: admin });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ total: number; sessions: SessionView[]; unreachable: unknown[] }>();
  assert.equal(body.total, 2);
  assert.deepEqual(body.unreachable, []);
  const first = body.sessions.find((s) => s.id.endsWith(':1'))!;
  assert.equal(first.tunnel, 'web');
  assert.equal(first.user, 'alice');
  assert.equal(first.source, '127.0.0.1');
  assert.deepEqual(first.path, [relay.nodeId]);
  assert.equal(first.up, 5);
  assert.equal(first.open, true);
  assert.ok(Math.abs(Date.parse(first.startedAt) - Date.now()) < 60_000, first.startedAt);

  // Filters and paging.
  const paged = (await relay.app.inject({ method: 'GET', url: '/v1/admin/sessions?limit=1&offset=1&tunnel=web', headers: admin })).json<{ total: number; sessions: SessionView[] }>();
  assert.equal(paged.total, 2);
  assert.equal(paged.sessions.length, 1);
  const none = (await relay.app.inject({ method: 'GET', url: '/v1/admin/sessions?user=bob', headers: admin })).json<{ total: number }>();
  assert.equal(none.total, 0);

  const ended = await relay.app.inject({ method: 'DELETE', url: `/v1/admin/sessions/${encodeURIComponent(first.id)}`, headers: admin });
  assert.equal(ended.statusCode, 204);
  const reset = await pair.connector.nextOf(FrameType.RESET, 1);
  assert.equal(reset.code, WireCode.CANCELLED);
  assert.match(reset.message, /terminated by the relay admin/);
  assert.equal((await pair.host.nextOf(FrameType.RESET, hostId)).code, WireCode.CANCELLED);
  const left = (await relay.app.inject({ method: 'GET', url: '/v1/admin/sessions', headers: admin })).json<{ total: number }>();
  assert.equal(left.total, 1);

  // The same session again, a malformed id: coded errors.
  const again = await relay.app.inject({ method: 'DELETE', url: `/v1/admin/sessions/${encodeURIComponent(first.id)}`, headers: admin });
  assert.equal(again.statusCode, 404);
  assert.equal(again.json<{ code: string }>().code, ErrorCode.NOT_FOUND);
  const bad = await relay.app.inject({ method: 'DELETE', url: '/v1/admin/sessions/nonsense', headers: admin });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ code: string }>().code, ErrorCode.INVALID_ARGUMENT);
});

test('admin views are for admins only: a user token gets 403, no token 401', async (t) => {
  const relay = await createTestRelay(t);
  const token = await createUser(relay, 'alice');
  for (const url of ['/v1/admin/overview', '/v1/admin/sessions', '/v1/admin/tunnels', '/v1/admin/rate-limits', '/v1/admin/live']) {
    assert.equal((await relay.app.inject({ method: 'GET', url, headers: bearer(token) })).statusCode, 403, url);
    assert.equal((await relay.app.inject({ method: 'GET', url })).statusCode, 401, url);
  }
  assert.equal((await relay.app.inject({ method: 'PUT', url: '/v1/tunnels/web/disabled', headers: bearer(token), payload: {} })).statusCode, 403);
});

test('tunnels: holders with address and client, streams and bytes; search, status filter and paging', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay, 'web');
  await openStream(pair, 1);
  const token = await createUser(relay, 'bob');
  // bob's tunnel is claimed, then its host leaves: offline.
  const gone = await openLink(relay, '/v1/host?tunnel=api', token);
  await waitFor(() => relay.router.hostFor('api') !== undefined);
  gone.close();
  await waitFor(() => relay.router.hostFor('api') === undefined);

  const all = (await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels', headers: admin })).json<{ total: number; tunnels: Record<string, unknown>[] }>();
  assert.equal(all.total, 2);
  const web = all.tunnels.find((r) => r.name === 'web')!;
  assert.equal(web.owner, 'alice');
  assert.equal(web.online, true);
  assert.equal(web.streams, 1);
  assert.equal(web.disabled, false);
  const holders = web.holders as { node: string; address: string; since: string }[];
  assert.equal(holders.length, 1);
  assert.equal(holders[0].node, relay.nodeId);
  assert.equal(holders[0].address, '127.0.0.1');
  assert.equal(web.onlineSince, holders[0].since);
  const api = all.tunnels.find((r) => r.name === 'api')!;
  assert.equal(api.online, false);
  assert.deepEqual(api.holders, []);

  const online = (await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?status=online', headers: admin })).json<{ tunnels: { name: string }[] }>();
  assert.deepEqual(online.tunnels.map((r) => r.name), ['web']);
  const offline = (await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?status=offline', headers: admin })).json<{ tunnels: { name: string }[] }>();
  assert.deepEqual(offline.tunnels.map((r) => r.name), ['api']);
  const byOwner = (await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?q=BOB', headers: admin })).json<{ tunnels: { name: string }[] }>();
  assert.deepEqual(byOwner.tunnels.map((r) => r.name), ['api']);
  const page = (await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?limit=1&offset=1', headers: admin })).json<{ total: number; tunnels: { name: string }[] }>();
  assert.equal(page.total, 2);
  assert.deepEqual(page.tunnels.map((r) => r.name), ['web']);
  const wrong = await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?status=sideways', headers: admin });
  assert.equal(wrong.statusCode, 400);
  const huge = await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?limit=100000', headers: admin });
  assert.equal(huge.statusCode, 400);
});

test('disable: streams reset and the host closed with TUNNEL_DISABLED, new hosts and connects refused; enable lets them in again; both audited', HANG_GUARD, async (t) => {
  const audit = new MemoryAuditSink();
  const relay = await createTestRelay(t, {}, ':memory:', { audit });
  await relay.listen();
  const pair = await hostAndConnector(relay, 'web');
  await openStream(pair, 1);
  const hostClosed = new Promise<number>((resolve) => pair.host.ws.once('close', (code) => resolve(code)));

  const res = await relay.app.inject({ method: 'PUT', url: '/v1/tunnels/web/disabled', headers: admin, payload: { reason: 'abuse report #7' } });
  assert.equal(res.statusCode, 200);
  const row = res.json<{ disabled: boolean; disabledReason: string; disabledAt: string }>();
  assert.equal(row.disabled, true);
  assert.equal(row.disabledReason, 'abuse report #7');
  const reset = await pair.connector.nextOf(FrameType.RESET, 1);
  assert.equal(reset.code, WireCode.TUNNEL_DISABLED);
  assert.match(reset.message, /disabled by the relay admin \(abuse report #7\)/);
  assert.equal(await hostClosed, 1008);

  const refusedHost = await upgradeRefusal(relay, '/v1/host?tunnel=web', bearer(pair.token), [SUBPROTOCOL]);
  assert.equal(refusedHost.status, 403);
  assert.equal(refusedHost.body.code, ErrorCode.TUNNEL_DISABLED);
  assert.match(refusedHost.body.message, /ask the relay admin to enable it/);
  pair.connector.send(encodeOpen(5, 65_536, 'web'));
  const refusedOpen = await pair.connector.nextOf(FrameType.OPEN_ERR, 5);
  assert.equal(refusedOpen.code, WireCode.TUNNEL_DISABLED);
  const status = (await relay.app.inject({ method: 'GET', url: '/v1/admin/tunnels?status=disabled', headers: admin })).json<{ tunnels: { name: string }[] }>();
  assert.deepEqual(status.tunnels.map((r) => r.name), ['web']);

  const enabled = await relay.app.inject({ method: 'DELETE', url: '/v1/tunnels/web/disabled', headers: admin });
  assert.equal(enabled.statusCode, 200);
  assert.equal(enabled.json<{ disabled: boolean }>().disabled, false);
  const host = await openLink(relay, '/v1/host?tunnel=web', pair.token);
  await waitFor(() => relay.router.hostFor('web') !== undefined);
  await openStream({ host, connector: pair.connector }, 7);

  const events = audit.events().map((e) => e.code as string);
  assert.ok(events.includes('tunnel.disabled'), events.join());
  assert.ok(events.includes('tunnel.enabled'), events.join());

  const unknown = await relay.app.inject({ method: 'PUT', url: '/v1/tunnels/nope/disabled', headers: admin, payload: {} });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json<{ code: string }>().code, ErrorCode.TUNNEL_UNKNOWN);
  const extra = await relay.app.inject({ method: 'PUT', url: '/v1/tunnels/web/disabled', headers: admin, payload: { reason: 'x', more: 1 } });
  assert.equal(extra.statusCode, 400);
});

test('users: block refuses the token with USER_BLOCKED and closes its links; unblock lets it in; the admin role makes a token an admin', HANG_GUARD, async (t) => {
  const audit = new MemoryAuditSink();
  const relay = await createTestRelay(t, {}, ':memory:', { audit });
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const link = await openLink(relay, '/v1/connect', token);
  const closed = new Promise<number>((resolve) => link.ws.once('close', (code) => resolve(code)));

  const blocked = await relay.app.inject({ method: 'PUT', url: '/v1/users/alice/block', headers: admin });
  assert.equal(blocked.statusCode, 200);
  assert.match(blocked.json<{ blockedAt: string }>().blockedAt, /^\d{4}-/);
  assert.equal(await closed, 1008);
  const refused = await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json<{ code: string }>().code, ErrorCode.USER_BLOCKED);
  assert.match(refused.json<{ message: string }>().message, /blocked on this relay .*ask the relay admin/);
  const listed = (await relay.app.inject({ method: 'GET', url: '/v1/users', headers: admin })).json<{ users: { name: string; blockedAt: string | null; role: string }[] }>();
  assert.ok(listed.users[0].blockedAt);
  assert.equal(listed.users[0].role, 'member');

  assert.equal((await relay.app.inject({ method: 'DELETE', url: '/v1/users/alice/block', headers: admin })).statusCode, 200);
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) })).statusCode, 200);
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: bearer(token) })).statusCode, 403);

  const promoted = await relay.app.inject({ method: 'PUT', url: '/v1/users/alice/role', headers: admin, payload: { role: 'admin' } });
  assert.equal(promoted.json<{ role: string }>().role, 'admin');
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: bearer(token) })).statusCode, 200);
  // An admin may not demote itself (another admin, or the admin token, may).
  const self = await relay.app.inject({ method: 'PUT', url: '/v1/users/alice/role', headers: bearer(token), payload: { role: 'member' } });
  assert.equal(self.statusCode, 400);
  assert.equal((await relay.app.inject({ method: 'PUT', url: '/v1/users/alice/role', headers: admin, payload: { role: 'owner' } })).statusCode, 400);
  assert.equal((await relay.app.inject({ method: 'PUT', url: '/v1/users/nobody/block', headers: admin })).statusCode, 404);
  const events = audit.events().map((e) => e.code as string);
  for (const event of ['user.blocked', 'user.unblocked', 'user.role_changed']) assert.ok(events.includes(event), event);
});

test('overview: this node with its load and counts, tunnels online, streams and errors by code', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { version: '9.9.9' });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  await openStream(pair, 1);
  // An open to a tunnel nobody hosts: an error by code.
  pair.connector.send(encodeOpen(3, 65_536, 'nothing-here'));
  await pair.connector.nextOf(FrameType.OPEN_ERR, 3);
  const o = (await relay.app.inject({ method: 'GET', url: '/v1/admin/overview', headers: admin })).json<{ node: string; nodes: Record<string, unknown>[]; tunnelsOnline: number; streams: number; errorsByCode: Record<string, number> }>();
  assert.equal(o.node, relay.nodeId);
  assert.equal(o.nodes.length, 1);
  assert.equal(o.nodes[0].version, '9.9.9');
  assert.equal(o.nodes[0].self, true);
  assert.equal(o.nodes[0].healthy, true);
  const load = o.nodes[0].load as { cpu: number; rssBytes: number; eventLoopDelayMs: number };
  assert.ok(load.rssBytes > 10 * 1024 * 1024);
  assert.ok(load.cpu >= 0);
  assert.equal(o.tunnelsOnline, 1);
  assert.equal(o.streams, 1);
  assert.ok((o.errorsByCode.TUNNEL_UNKNOWN ?? 0) + (o.errorsByCode.TUNNEL_OFFLINE ?? 0) >= 1, JSON.stringify(o.errorsByCode));
});

test('live: Server-Sent Events, a sample at once and one a second, with the bytes that flowed and the open latency', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  const url = await relay.listen();
  const pair = await hostAndConnector(relay);
  const samples: Record<string, unknown>[] = [];
  const request = http.get(`${url.replace(/^ws/, 'http')}/v1/admin/live`, { headers: admin });
  const response = await new Promise<http.IncomingMessage>((resolve) => request.once('response', resolve));
  t.after(() => request.destroy());
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/event-stream/);
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(event);
      if (/^event: sample$/m.test(event) && data) samples.push(JSON.parse(data[1]) as Record<string, unknown>);
    }
  });
  await waitFor(() => samples.length >= 1);
  assert.equal(samples[0].node, relay.nodeId);
  const hostId = await openStream(pair, 1);
  pair.connector.send(encodeData(1, Buffer.alloc(40_000)));
  await pair.host.nextOf(FrameType.DATA, hostId);
  await waitFor(() => samples.some((s) => (s.opensPerSec as number) > 0));
  const busy = samples.find((s) => (s.opensPerSec as number) > 0)!;
  assert.equal(busy.streams, 1);
  const latency = busy.openLatencyMs as { p50: number; p95: number; count: number };
  assert.equal(latency.count, 1);
  assert.ok(latency.p50 > 0 && latency.p95 >= latency.p50);
  // Link bytes (frame headers included), as a rate over the sample's period.
  await waitFor(() => samples.some((s) => (s.bytesIn as number) >= 40_000 && (s.bytesInPerSec as number) > 0));
  assert.equal(relay.router.live.watching, true);
  request.destroy();
  await waitFor(() => !relay.router.live.watching);
});

test('rate limits: the rules as rows, and refusals by rule', async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { rateLimits: { api: { perAddress: { rate: 1, periodMs: 60_000, burst: 1 } } } });
  const token = await createUser(relay, 'alice');
  for (let i = 0; i < 3; i++) await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(token) });
  const body = (await relay.app.inject({ method: 'GET', url: '/v1/admin/rate-limits', headers: admin })).json<{ enabled: boolean; rules: { rule: string; rate?: number; off: boolean }[]; refusals: { byRule: { rule: string; count: number }[]; recent: { rule: string; key: string }[] } }>();
  assert.equal(body.enabled, true);
  assert.deepEqual(body.rules.find((r) => r.rule === 'api.perAddress'), { rule: 'api.perAddress', off: false, rate: 1, periodMs: 60_000, burst: 1 });
  assert.equal(body.rules.find((r) => r.rule === 'bytes.perTunnel')?.off, true);
  assert.ok(body.rules.some((r) => r.rule === 'api.perRoute[POST /v1/users]'));
  assert.deepEqual(body.refusals.byRule.map((r) => [r.rule, r.count]), [['api.perAddress', 2]]);
  assert.equal(body.refusals.recent.length, 2);
});

test('ruleRows flattens nested rules and marks the ones that are off', () => {
  assert.deepEqual(ruleRows({ a: { b: false, c: { rate: 1, periodMs: 2, burst: 3, lockoutMs: 4 } } }), [
    { rule: 'a.b', off: true },
    { rule: 'a.c', off: false, rate: 1, periodMs: 2, burst: 3, lockoutMs: 4 },
  ]);
});
