import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { encodeOpen, ErrorCode, FrameType, WireCode } from '@tether/shared';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { buildApp } from '../app.js';
import { ADMIN_TOKEN, bearer, createUser, HANG_GUARD, openLink, openStream, type TestRelay } from '../test-support/testing.js';
import WebSocket from 'ws';

interface Team {
  relay: TestRelay;
  audit: MemoryAuditSink;
  owner: string;
  /** Tokens of other users by name. */
  users: Record<string, string>;
  call: <T = Record<string, unknown>>(token: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) => Promise<{ status: number; body: T }>;
}

/** A listening relay where olga owns tunnel `web` (hosted), and users mia, ned and pia exist. */
async function team(t: TestContext): Promise<Team> {
  const audit = new MemoryAuditSink();
  const app = await buildApp({ databaseFile: ':memory:', adminToken: ADMIN_TOKEN, logger: false, audit });
  const clients = new Set<WebSocket>();
  const relay: TestRelay = {
    ...app, wsUrl: '', clients,
    async listen() {
      relay.wsUrl = (await app.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
      return relay.wsUrl;
    },
  };
  t.after(async () => {
    for (const ws of clients) ws.terminate();
    await app.app.close();
  });
  await relay.listen();
  const owner = await createUser(relay, 'olga');
  const users: Record<string, string> = {};
  for (const name of ['mia', 'ned', 'pia']) users[name] = await createUser(relay, name);
  const call = async <T,>(token: string, method: string, url: string, payload?: object) => {
    const res = await relay.app.inject({ method: method as 'GET', url, headers: bearer(token), ...(payload === undefined ? {} : { payload }) });
    return { status: res.statusCode, body: (res.body ? res.json() : {}) as T };
  };
  return { relay, audit, owner, users, call };
}

/** olga's host link for `web`, answering OPENs. */
async function hostWeb(s: Team) {
  return openLink(s.relay, '/v1/host?tunnel=web', s.owner);
}

test('invite → accept → connect: the invitee opens streams with the invite role; the code is single use', HANG_GUARD, async (t) => {
  const s = await team(t);
  const host = await hostWeb(s);
  const created = await s.call<{ code: string; invite: { id: string; role: string; uses: number; maxUses: number; state: string } }>(s.owner, 'POST', '/v1/tunnels/web/invites', {});
  assert.equal(created.status, 201);
  assert.deepEqual([created.body.invite.role, created.body.invite.maxUses, created.body.invite.state], ['connect', 1, 'active']);
  const accepted = await s.call<{ tunnel: string; role: string; request: null }>(s.users.mia, 'POST', '/v1/invites/accept', { code: created.body.code });
  assert.equal(accepted.status, 200);
  assert.deepEqual([accepted.body.tunnel, accepted.body.role, accepted.body.request], ['web', 'connect', null]);
  const again = await s.call<{ code: string }>(s.users.ned, 'POST', '/v1/invites/accept', { code: created.body.code });
  assert.deepEqual([again.status, again.body.code], [410, ErrorCode.INVITE_USED_UP]);

  const connector = await openLink(s.relay, '/v1/connect', s.users.mia);
  await openStream({ host, connector }, 1);
  const list = await s.call<{ tunnels: { name: string; role: string; owner: string }[] }>(s.users.mia, 'GET', '/v1/tunnels');
  assert.deepEqual(list.body.tunnels.map((x) => [x.name, x.role, x.owner]), [['web', 'connect', 'olga']]);
  const members = await s.call<{ owner: string; members: { user: string; role: string; source: string }[] }>(s.owner, 'GET', '/v1/tunnels/web/members');
  assert.deepEqual(members.body.members.map((m) => [m.user, m.role, m.source]), [['mia', 'connect', 'invite']]);
  // ned, who holds nothing, learns nothing about the tunnel.
  const nedConnector = await openLink(s.relay, '/v1/connect', s.users.ned);
  nedConnector.send(encodeOpen(1, 4096, 'web'));
  assert.equal((await nedConnector.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.TUNNEL_UNKNOWN);
  const codes = s.audit.events().map((e) => e.code);
  for (const code of ['invite.created', 'invite.accepted', 'member.granted', 'invite.refused']) assert.ok(codes.includes(code as never), code);
});

test('a view member sees the tunnel but cannot open a stream; a role change to connect lets it', HANG_GUARD, async (t) => {
  const s = await team(t);
  const host = await hostWeb(s);
  assert.equal((await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/mia', { role: 'view' })).status, 200);
  const status = await s.call<{ role: string; online: boolean }>(s.users.mia, 'GET', '/v1/tunnels/web');
  assert.deepEqual([status.status, status.body.role, status.body.online], [200, 'view', true]);
  const connector = await openLink(s.relay, '/v1/connect', s.users.mia);
  connector.send(encodeOpen(1, 4096, 'web'));
  const refused = await connector.nextOf(FrameType.OPEN_ERR, 1);
  assert.equal(refused.code, WireCode.TUNNEL_FORBIDDEN);
  assert.equal(refused.message, 'mia holds the view role on tunnel web, which does not allow connecting');
  await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/mia', { role: 'connect' });
  await openStream({ host, connector }, 3);
  // Back to view: the open stream ends, and says why.
  await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/mia', { role: 'view' });
  const narrowed = await connector.nextOf(FrameType.RESET, 3);
  assert.equal(narrowed.code, WireCode.TUNNEL_FORBIDDEN);
  assert.equal(narrowed.message, 'role changed: mia holds the view role on tunnel web, which does not allow connecting');
});

test('removing a member or blocking it resets its open streams at once with TUNNEL_FORBIDDEN; the owner is not a member', HANG_GUARD, async (t) => {
  const s = await team(t);
  const host = await hostWeb(s);
  for (const user of ['mia', 'ned']) await s.call(s.owner, 'PUT', `/v1/tunnels/web/members/${user}`, { role: 'connect' });
  const mia = await openLink(s.relay, '/v1/connect', s.users.mia);
  const ned = await openLink(s.relay, '/v1/connect', s.users.ned);
  await openStream({ host, connector: mia }, 1);
  await openStream({ host, connector: ned }, 1);
  const started = Date.now();
  assert.equal((await s.call(s.owner, 'DELETE', '/v1/tunnels/web/members/mia')).status, 204);
  const reset = await mia.nextOf(FrameType.RESET, 1);
  assert.ok(Date.now() - started < 1000);
  assert.equal(reset.code, WireCode.TUNNEL_FORBIDDEN);
  assert.equal(reset.message, 'removed from the tunnel');
  assert.equal((await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/ned/block')).status, 200);
  assert.equal((await ned.nextOf(FrameType.RESET, 1)).message, 'blocked on the tunnel');
  // A blocked user cannot come back through an invite.
  const invite = await s.call<{ code: string }>(s.owner, 'POST', '/v1/tunnels/web/invites', { uses: 5 });
  const blocked = await s.call<{ code: string; message: string }>(s.users.ned, 'POST', '/v1/invites/accept', { code: invite.body.code });
  assert.deepEqual([blocked.status, blocked.body.code], [403, ErrorCode.TUNNEL_FORBIDDEN]);
  const self = await s.call<{ code: string }>(s.owner, 'PUT', '/v1/tunnels/web/members/olga', { role: 'view' });
  assert.deepEqual([self.status, self.body.code], [400, ErrorCode.INVALID_ARGUMENT]);
  assert.ok(s.audit.events().some((e) => e.code === 'streams.revoked'));
});

test('a grant that lapses ends the streams opened under it when it does', HANG_GUARD, async (t) => {
  const s = await team(t);
  const host = await hostWeb(s);
  const expiresAt = new Date(Date.now() + 1500).toISOString();
  assert.equal((await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/mia', { role: 'connect', expiresAt })).status, 200);
  const mia = await openLink(s.relay, '/v1/connect', s.users.mia);
  await openStream({ host, connector: mia }, 1);
  const reset = await mia.nextOf(FrameType.RESET, 1);
  const late = Date.now() - Date.parse(expiresAt);
  assert.ok(late >= 0 && late < 1000, `reset ${late} ms after the grant lapsed`);
  assert.equal(reset.message, 'the access lapsed');
  mia.send(encodeOpen(3, 4096, 'web'));
  assert.equal((await mia.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_UNKNOWN);
});

test('access request → approvals (N of M, no self-review, a deny ends it) → a grant that lasts the duration', HANG_GUARD, async (t) => {
  const s = await team(t);
  await hostWeb(s);
  await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/ned', { role: 'admin' });
  assert.deepEqual((await s.call(s.owner, 'PATCH', '/v1/tunnels/web/settings', { approvals: 2 })).body, { approval: 'none', approvals: 2, maxDurationMs: null });
  const asked = await s.call<{ id: string; status: string; approvalsNeeded: number }>(s.users.mia, 'POST', '/v1/tunnels/web/requests', { role: 'connect', durationMs: 3_600_000, reason: 'debugging the build' });
  assert.equal(asked.status, 201);
  assert.deepEqual([asked.body.status, asked.body.approvalsNeeded], ['pending', 2]);
  const dup = await s.call<{ code: string }>(s.users.mia, 'POST', '/v1/tunnels/web/requests', {});
  assert.equal(dup.body.code, ErrorCode.INVALID_ARGUMENT);
  // mia sees her request; the owner and the admin see it to review; pia sees nothing.
  for (const [token, n] of [[s.users.mia, 1], [s.owner, 1], [s.users.ned, 1], [s.users.pia, 0]] as const) {
    assert.equal((await s.call<{ requests: unknown[] }>(token, 'GET', '/v1/requests?pending=true')).body.requests.length, n);
  }
  const selfReview = await s.call<{ code: string }>(s.users.mia, 'POST', `/v1/requests/${asked.body.id}/approve`, {});
  assert.deepEqual([selfReview.status, selfReview.body.code], [403, ErrorCode.REVIEW_REFUSED]);
  const stranger = await s.call<{ code: string }>(s.users.pia, 'POST', `/v1/requests/${asked.body.id}/approve`, {});
  assert.deepEqual([stranger.status, stranger.body.code], [404, ErrorCode.NOT_FOUND]);
  const first = await s.call<{ status: string; approvals: number }>(s.owner, 'POST', `/v1/requests/${asked.body.id}/approve`, { reason: 'ok' });
  assert.deepEqual([first.body.status, first.body.approvals], ['pending', 1]);
  const twice = await s.call<{ code: string }>(s.owner, 'POST', `/v1/requests/${asked.body.id}/approve`, {});
  assert.equal(twice.body.code, ErrorCode.REVIEW_REFUSED);
  const second = await s.call<{ status: string; grantedUntil: string }>(s.users.ned, 'POST', `/v1/requests/${asked.body.id}/approve`, {});
  assert.equal(second.body.status, 'approved');
  const lasts = Date.parse(second.body.grantedUntil) - Date.now();
  assert.ok(lasts > 3_590_000 && lasts <= 3_600_000, `${lasts}`);
  const members = await s.call<{ members: { user: string; role: string; expiresAt: string; source: string }[] }>(s.owner, 'GET', '/v1/tunnels/web/members');
  assert.deepEqual(members.body.members.find((m) => m.user === 'mia'), { ...members.body.members.find((m) => m.user === 'mia')!, role: 'connect', source: 'request', expiresAt: second.body.grantedUntil });
  const closed = await s.call<{ code: string }>(s.owner, 'POST', `/v1/requests/${asked.body.id}/deny`, {});
  assert.deepEqual([closed.status, closed.body.code], [409, ErrorCode.REQUEST_CLOSED]);

  const pia = await s.call<{ id: string }>(s.users.pia, 'POST', '/v1/tunnels/web/requests', { reason: 'please' });
  const denied = await s.call<{ status: string }>(s.users.ned, 'POST', `/v1/requests/${pia.body.id}/deny`, { reason: 'not this week' });
  assert.equal(denied.body.status, 'denied');
  assert.equal((await s.call(s.users.pia, 'GET', '/v1/tunnels/web')).status, 404);
});

test('a tunnel that requires approval turns an accepted invite into a pending request', HANG_GUARD, async (t) => {
  const s = await team(t);
  await hostWeb(s);
  await s.call(s.owner, 'PATCH', '/v1/tunnels/web/settings', { approval: 'required', maxDurationMs: 7_200_000 });
  const invite = await s.call<{ code: string }>(s.owner, 'POST', '/v1/tunnels/web/invites', { role: 'view' });
  const accepted = await s.call<{ granted: null; request: { id: string; status: string; role: string; durationMs: number } }>(s.users.mia, 'POST', '/v1/invites/accept', { code: invite.body.code });
  assert.equal(accepted.status, 202);
  assert.deepEqual([accepted.body.granted, accepted.body.request.status, accepted.body.request.role, accepted.body.request.durationMs], [null, 'pending', 'view', 7_200_000]);
  assert.equal((await s.call(s.users.mia, 'GET', '/v1/tunnels/web')).status, 404, 'nothing until approved');
  const tooLong = await s.call<{ code: string; message: string }>(s.users.ned, 'POST', '/v1/tunnels/web/requests', { durationMs: 7_300_000 });
  assert.deepEqual([tooLong.status, tooLong.body.code, tooLong.body.message], [400, ErrorCode.INVALID_ARGUMENT, 'the access asked for may be at most 2h']);
  await s.call(s.owner, 'POST', `/v1/requests/${accepted.body.request.id}/approve`, {});
  assert.equal((await s.call<{ role: string }>(s.users.mia, 'GET', '/v1/tunnels/web')).body.role, 'view');
});

test('invites: revoked, expired-by-record, bound to another user, malformed and forged codes are each refused with their code', HANG_GUARD, async (t) => {
  const s = await team(t);
  await hostWeb(s);
  const make = async (payload: object) => (await s.call<{ code: string; invite: { id: string } }>(s.owner, 'POST', '/v1/tunnels/web/invites', payload)).body;
  const revoked = await make({});
  assert.equal((await s.call(s.owner, 'DELETE', `/v1/invites/${revoked.invite.id}`)).status, 204);
  const bound = await make({ user: 'ned', uses: 2 });
  const cases: [string, string, number, string][] = [
    ['revoked', revoked.code, 410, ErrorCode.INVITE_REVOKED],
    ['bound to ned', bound.code, 403, ErrorCode.INVITE_NOT_FOR_YOU],
    ['malformed', 'hello', 400, ErrorCode.INVITE_INVALID],
    ['truncated', bound.code.slice(0, 40), 400, ErrorCode.INVITE_INVALID],
    ['re-signed', `${bound.code.split('.').slice(0, 2).join('.')}.${'A'.repeat(43)}`, 400, ErrorCode.INVITE_INVALID],
  ];
  for (const [what, code, status, errCode] of cases) {
    const res = await s.call<{ code: string }>(s.users.mia, 'POST', '/v1/invites/accept', { code });
    assert.deepEqual([res.status, res.body.code], [status, errCode], what);
  }
  assert.equal((await s.call(s.users.ned, 'POST', '/v1/invites/accept', { code: bound.code })).status, 200);
  const listed = await s.call<{ invites: { id: string; state: string; uses: number; user: string | null }[] }>(s.owner, 'GET', '/v1/tunnels/web/invites');
  assert.deepEqual(listed.body.invites.map((i) => [i.state, i.uses, i.user]), [['active', 1, 'ned'], ['revoked', 0, null]]);
  // Nothing was granted to mia by any of it.
  assert.equal((await s.call<{ members: { user: string }[] }>(s.owner, 'GET', '/v1/tunnels/web/members')).body.members.some((m) => m.user === 'mia'), false);
  for (const [payload, message] of [[{ expiresInMs: 31 * 86_400_000 }, /invite lifetime must be <= 2592000000/], [{ uses: 0 }, /uses/], [{ role: 'owner' }, /role/], [{ extra: 1 }, /extra|unknown/i]] as const) {
    const res = await s.call<{ code: string; message: string }>(s.owner, 'POST', '/v1/tunnels/web/invites', payload);
    assert.equal(res.status, 400, JSON.stringify(payload));
    assert.match(`${res.body.code} ${res.body.message}`, message);
  }
});

test('a user without the admin role tries every management call on someone else\'s tunnel: each refused with a code, nothing changed', HANG_GUARD, async (t) => {
  const s = await team(t);
  await hostWeb(s);
  await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/mia', { role: 'connect' });
  const invite = await s.call<{ invite: { id: string } }>(s.owner, 'POST', '/v1/tunnels/web/invites', {});
  const before = JSON.stringify([(await s.call(s.owner, 'GET', '/v1/tunnels/web/members')).body, (await s.call(s.owner, 'GET', '/v1/tunnels/web/invites')).body, (await s.call(s.owner, 'GET', '/v1/tunnels/web/settings')).body]);
  const calls: [string, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', string, object?][] = [
    ['members', 'GET', '/v1/tunnels/web/members'],
    ['set member', 'PUT', '/v1/tunnels/web/members/ned', { role: 'connect' }],
    ['remove member', 'DELETE', '/v1/tunnels/web/members/mia'],
    ['block', 'PUT', '/v1/tunnels/web/members/mia/block'],
    ['settings', 'PATCH', '/v1/tunnels/web/settings', { approval: 'required' }],
    ['create invite', 'POST', '/v1/tunnels/web/invites', {}],
    ['list invites', 'GET', '/v1/tunnels/web/invites'],
    ['revoke invite', 'DELETE', `/v1/invites/${invite.body.invite.id}`],
    ['delete tunnel', 'DELETE', '/v1/tunnels/web'],
  ];
  for (const [who, token, expected] of [['mia (connect)', s.users.mia, [403, ErrorCode.TUNNEL_FORBIDDEN]], ['ned (nothing)', s.users.ned, [404, null]]] as const) {
    for (const [what, method, url, payload] of calls) {
      const res = await s.call<{ code: string }>(token, method, url, payload);
      if (expected[1] === null) assert.ok([404].includes(res.status) && [ErrorCode.TUNNEL_UNKNOWN, ErrorCode.NOT_FOUND].includes(res.body.code as never), `${who} ${what}: ${res.status} ${res.body.code}`);
      else assert.deepEqual([res.status, res.body.code], expected, `${who} ${what}`);
    }
  }
  const after = JSON.stringify([(await s.call(s.owner, 'GET', '/v1/tunnels/web/members')).body, (await s.call(s.owner, 'GET', '/v1/tunnels/web/invites')).body, (await s.call(s.owner, 'GET', '/v1/tunnels/web/settings')).body]);
  assert.equal(after, before);
  // A tunnel admin manages, but only the owner deals in the admin role.
  await s.call(s.owner, 'PUT', '/v1/tunnels/web/members/ned', { role: 'admin' });
  const admins = await s.call<{ code: string; message: string }>(s.users.ned, 'PUT', '/v1/tunnels/web/members/pia', { role: 'admin' });
  assert.deepEqual([admins.status, admins.body.message], [403, 'only the owner of tunnel web may give or take the admin role']);
  assert.equal((await s.call(s.users.ned, 'PUT', '/v1/tunnels/web/members/pia', { role: 'view' })).status, 200);
  // The relay admin holds every right on every tunnel, and now sees it by name (it was refused).
  assert.equal((await s.call<{ role: string }>(ADMIN_TOKEN, 'GET', '/v1/tunnels/web')).body.role, 'relay-admin');
  assert.equal((await s.call(ADMIN_TOKEN, 'GET', '/v1/tunnels/web/members')).status, 200);
});

test('unknown ids and names: coded 404s, nothing changed', HANG_GUARD, async (t) => {
  const s = await team(t);
  await hostWeb(s);
  const cases: [string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, object | undefined, string][] = [
    ['revoke an unknown invite', 'DELETE', '/v1/invites/inv_nope', undefined, ErrorCode.NOT_FOUND],
    ['approve an unknown request', 'POST', '/v1/requests/req_nope/approve', {}, ErrorCode.NOT_FOUND],
    ['deny an unknown request', 'POST', '/v1/requests/req_nope/deny', {}, ErrorCode.NOT_FOUND],
    ['a member who is no user', 'PUT', '/v1/tunnels/web/members/ghost', { role: 'view' }, ErrorCode.NOT_FOUND],
    ['remove a user who is no member', 'DELETE', '/v1/tunnels/web/members/pia', undefined, ErrorCode.NOT_FOUND],
    ['members of a tunnel nobody holds', 'GET', '/v1/tunnels/nope/members', undefined, ErrorCode.TUNNEL_UNKNOWN],
    ['request access to a tunnel nobody holds', 'POST', '/v1/tunnels/nope/requests', {}, ErrorCode.TUNNEL_UNKNOWN],
  ];
  for (const [what, method, url, payload, code] of cases) {
    const res = await s.call<{ code: string; message: string }>(s.owner, method, url, payload);
    assert.deepEqual([res.status, res.body.code], [404, code], what);
    assert.ok(res.body.message.length > 0, what);
  }
  const bad = await s.call<{ code: string }>(s.owner, 'DELETE', '/v1/invites/has%20space');
  assert.equal(bad.status, 400);
  assert.deepEqual((await s.call<{ members: unknown[] }>(s.owner, 'GET', '/v1/tunnels/web/members')).body.members, []);
});
