import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildApp, type RelayApp } from '@tether/relay';
import { ErrorCode, isTetherError, type ErrorCodeString } from '@tether/shared';
import { closedPort } from '../test-support/testing.js';
import { HostAgent } from './host-agent.js';
import { inviteIdOf } from './invite-code.js';
import { RelayApi } from './relay-api.js';
import { webSocketFactory } from './relay-session.js';

const rejectsWith = (promise: Promise<unknown>, code: ErrorCodeString) => assert.rejects(promise, (err) => isTetherError(err, code));

// RelayApi's sharing methods against a real relay (SQLite in memory): the shapes the relay
// answers are the shapes the types declare, and refusals come back coded.
describe('RelayApi sharing, against a relay', () => {
  const adminToken = 'admin-token-for-sharing-tests';
  let relay: RelayApp;
  let agent: HostAgent;
  const as: Record<string, RelayApi> = {};
  const tokens: Record<string, string> = {};

  before(async () => {
    relay = await buildApp({ databaseFile: ':memory:', adminToken, logger: false });
    await relay.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(relay.app.server.address() as net.AddressInfo).port}`;
    const admin = new RelayApi(url, adminToken);
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      tokens[name] = (await admin.createUser(name)).token;
      as[name] = new RelayApi(url, tokens[name]);
    }
    // A tunnel exists once it has been shared: alice's box.
    agent = new HostAgent({ tunnel: 'box', target: { host: '127.0.0.1', port: await closedPort() }, factory: webSocketFactory({ relay: url, token: tokens.alice }) });
    await agent.start();
  });
  after(async () => {
    await agent?.stop(0);
    await relay?.app.close();
  });

  test('invite: create, list, accept once; a second use is refused', async () => {
    const { code, invite } = await as.alice.createInvite('box', { role: 'connect', uses: 1, expiresInMs: 3_600_000 });
    assert.equal(inviteIdOf(code), invite.id);
    assert.deepEqual([invite.tunnel, invite.role, invite.maxUses, invite.uses, invite.user, invite.state], ['box', 'connect', 1, 0, null, 'active']);
    assert.deepEqual((await as.alice.invites('box')).map((i) => i.id), [invite.id]);
    const accepted = await as.bob.acceptInvite(code);
    assert.equal(accepted.request, null);
    assert.equal(accepted.granted?.user, 'bob');
    assert.equal(accepted.role, 'connect');
    await rejectsWith(as.carol.acceptInvite(code), ErrorCode.INVITE_USED_UP);
    assert.equal((await as.alice.invites('box'))[0].state, 'used-up');
    const box = (await as.bob.tunnels()).find((t) => t.name === 'box');
    assert.equal(box?.role, 'connect');
    assert.equal((await as.alice.tunnel('box')).role, 'owner');
  });

  test('a revoked invite is refused', async () => {
    const { code } = await as.alice.createInvite('box');
    await as.alice.revokeInvite(inviteIdOf(code) ?? '');
    await rejectsWith(as.dave.acceptInvite(code), ErrorCode.INVITE_REVOKED);
  });

  test('members: set, block, unblock, remove; only managers see them', async () => {
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const set = await as.alice.setMember('box', 'carol', 'view', until);
    assert.deepEqual([set.user, set.role, set.expiresAt, set.blocked, set.source], ['carol', 'view', until, false, 'direct']);
    assert.equal((await as.alice.blockMember('box', 'carol', true)).blocked, true);
    assert.equal((await as.alice.blockMember('box', 'carol', false)).blocked, false);
    const list = await as.alice.members('box');
    assert.equal(list.owner, 'alice');
    assert.deepEqual(list.members.map((m) => `${m.user}:${m.role}`).sort(), ['bob:connect', 'carol:view']);
    await rejectsWith(as.bob.members('box'), ErrorCode.TUNNEL_FORBIDDEN);
    await as.alice.removeMember('box', 'carol');
    assert.deepEqual((await as.alice.members('box')).members.map((m) => m.user), ['bob']);
  });

  test('settings, access requests and reviews; nobody reviews their own', async () => {
    assert.deepEqual(await as.alice.tunnelSettings('box'), { approval: 'none', approvals: 1, maxDurationMs: null });
    assert.deepEqual(await as.alice.updateTunnelSettings('box', { maxDurationMs: 7_200_000 }), { approval: 'none', approvals: 1, maxDurationMs: 7_200_000 });
    const request = await as.carol.requestAccess('box', { role: 'view', durationMs: 3_600_000, reason: 'read the logs' });
    assert.deepEqual([request.status, request.approvals, request.approvalsNeeded, request.user, request.reason], ['pending', 0, 1, 'carol', 'read the logs']);
    await rejectsWith(as.carol.reviewRequest(request.id, 'approve'), ErrorCode.REVIEW_REFUSED);
    assert.ok((await as.alice.accessRequests(true)).some((r) => r.id === request.id));
    const approved = await as.alice.reviewRequest(request.id, 'approve');
    assert.equal(approved.status, 'approved');
    assert.ok(approved.grantedUntil);
    assert.equal(approved.reviews[0].reviewer, 'alice');
    assert.ok(!(await as.alice.accessRequests(true)).some((r) => r.id === request.id));
    await rejectsWith(as.alice.reviewRequest(request.id, 'deny', 'too late'), ErrorCode.REQUEST_CLOSED);
  });

  test('on a tunnel that requires approval, accepting an invite opens a request', async () => {
    assert.equal((await as.alice.updateTunnelSettings('box', { approval: 'required' })).approval, 'required');
    const { code } = await as.alice.createInvite('box', { role: 'view' });
    const accepted = await as.dave.acceptInvite(code);
    assert.equal(accepted.granted, null);
    assert.equal(accepted.request?.status, 'pending');
    assert.equal(accepted.request?.user, 'dave');
    const denied = await as.alice.reviewRequest(accepted.request?.id ?? '', 'deny', 'not now');
    assert.deepEqual([denied.status, denied.reviews[0].reason], ['denied', 'not now']);
  });
});
