import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ErrorCode } from '@tether/shared';
import type { Store } from '../ports/store.js';
import { DEFAULT_TUNNEL_SETTINGS, type GrantInput, type InviteInput } from '../ports/team-store.js';

/** Opens a second store on the same database (or Redis and prefix) as the one given. */
export type StoreTwin = (store: Store) => Promise<Store>;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const NOW = '2030-01-01T00:00:00.000Z';
const LATER = '2030-01-02T00:00:00.000Z';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Alice owns `web`, Bob owns `db`; Carol and Dave own nothing. */
async function team(store: Store) {
  const alice = await store.createUser('alice', 'a'.repeat(64));
  const bob = await store.createUser('bob', 'b'.repeat(64));
  const carol = await store.createUser('carol', 'c'.repeat(64));
  const dave = await store.createUser('dave', 'd'.repeat(64));
  await store.claimTunnel('web', alice.id);
  await store.claimTunnel('db', bob.id);
  return { alice, bob, carol, dave };
}

const grant = (tunnel: string, userId: number, extra: Partial<GrantInput> = {}): GrantInput => ({
  tunnel, userId, role: 'connect', expiresAt: null, blocked: false, source: 'direct', grantedBy: 0, ...extra,
});
const invite = (id: string, tunnel: string, createdBy: number, extra: Partial<InviteInput> = {}): InviteInput => ({
  id, tunnel, role: 'view', createdBy, expiresAt: LATER, maxUses: 1, userId: null, ...extra,
});

/**
 * The TeamStore half of the store contract (store-contract.ts runs it): grants, invites, access
 * requests, settings, the shared secret, and the cascades of deleting a tunnel or a user.
 */
export function teamStoreContract(name: string, withStore: (title: string, body: (store: Store) => Promise<void>) => void, twin: StoreTwin): void {
  describe(`TeamStore contract: ${name}`, () => {
    withStore('tunnel settings: defaults until set, replaced by set, undefined/false for no such tunnel', async (store) => {
      await team(store);
      assert.deepEqual(await store.getTunnelSettings('web'), DEFAULT_TUNNEL_SETTINGS);
      const strict = { approval: 'required', approvals: 3, maxDurationMs: 3_600_000 } as const;
      assert.equal(await store.setTunnelSettings('web', strict), true);
      assert.deepEqual(await store.getTunnelSettings('web'), strict);
      assert.deepEqual(await store.getTunnelSettings('db'), DEFAULT_TUNNEL_SETTINGS);
      assert.equal(await store.getTunnelSettings('nope'), undefined);
      assert.equal(await store.setTunnelSettings('nope', strict), false);
      assert.equal(await store.getTunnelSettings('nope'), undefined);
    });

    withStore('putGrant creates with the user name, a replace changes it but keeps createdAt; getGrant and deleteGrant', async (store) => {
      const { alice, carol } = await team(store);
      const first = await store.putGrant(grant('web', carol.id, { grantedBy: alice.id }));
      assert.deepEqual({ ...first, createdAt: '' }, { ...grant('web', carol.id, { grantedBy: alice.id }), userName: 'carol', createdAt: '' });
      assert.match(first.createdAt, ISO);
      assert.deepEqual(await store.getGrant('web', carol.id), first);
      await sleep(5);
      const replaced = await store.putGrant(grant('web', carol.id, { role: 'admin', expiresAt: LATER, blocked: true, source: 'request', grantedBy: 0 }));
      assert.deepEqual(replaced, { ...grant('web', carol.id, { role: 'admin', expiresAt: LATER, blocked: true, source: 'request' }), userName: 'carol', createdAt: first.createdAt });
      assert.deepEqual(await store.getGrant('web', carol.id), replaced);
      assert.equal(await store.getGrant('db', carol.id), undefined);
      assert.equal(await store.deleteGrant('web', carol.id), true);
      assert.equal(await store.deleteGrant('web', carol.id), false);
      assert.equal(await store.getGrant('web', carol.id), undefined);
      assert.deepEqual(await store.listGrantsOfUser(carol.id), []);
    });

    withStore('putGrant refuses a tunnel nobody holds (TUNNEL_UNKNOWN): it would pass to the next owner', async (store) => {
      const { carol } = await team(store);
      await assert.rejects(store.putGrant(grant('nope', carol.id)), { code: ErrorCode.TUNNEL_UNKNOWN });
      assert.deepEqual(await store.listGrantsOfUser(carol.id), []);
    });

    withStore('listGrants is by user name, listGrantsOfUser by tunnel name', async (store) => {
      const { alice, bob, carol, dave } = await team(store);
      await store.claimTunnel('api', alice.id);
      for (const u of [dave, bob, carol]) await store.putGrant(grant('web', u.id));
      await store.putGrant(grant('db', carol.id, { role: 'view' }));
      await store.putGrant(grant('api', carol.id));
      assert.deepEqual((await store.listGrants('web')).map((g) => g.userName), ['bob', 'carol', 'dave']);
      assert.deepEqual((await store.listGrantsOfUser(carol.id)).map((g) => [g.tunnel, g.role]), [['api', 'connect'], ['db', 'view'], ['web', 'connect']]);
      assert.deepEqual(await store.listGrants('nope'), []);
      assert.deepEqual(await store.listGrantsOfUser(999), []);
    });

    withStore('invites: created unused, listed newest first (revoked ones too), revokeInvite', async (store) => {
      const { alice, carol } = await team(store);
      const first = await store.createInvite(invite('i1', 'web', alice.id));
      assert.deepEqual({ ...first, createdAt: '' }, { ...invite('i1', 'web', alice.id), createdAt: '', uses: 0, revoked: false });
      assert.match(first.createdAt, ISO);
      assert.deepEqual(await store.getInvite('i1'), first);
      await store.createInvite(invite('i2', 'web', alice.id, { userId: carol.id, role: 'admin', maxUses: 5 }));
      await store.createInvite(invite('i3', 'web', alice.id));
      await store.createInvite(invite('other', 'db', alice.id));
      assert.equal(await store.revokeInvite('i2'), true);
      assert.equal(await store.revokeInvite('nope'), false);
      const listed = await store.listInvites('web');
      assert.deepEqual(listed.map((i) => [i.id, i.revoked]), [['i3', false], ['i2', true], ['i1', false]]);
      assert.deepEqual(listed[1], { ...invite('i2', 'web', alice.id, { userId: carol.id, role: 'admin', maxUses: 5 }), createdAt: listed[1].createdAt, uses: 0, revoked: true });
      assert.equal(await store.getInvite('nope'), undefined);
      assert.deepEqual(await store.listInvites('nope'), []);
      await assert.rejects(store.createInvite(invite('x', 'nope', alice.id)), { code: ErrorCode.TUNNEL_UNKNOWN });
    });

    withStore('useInvite counts uses and refuses unknown, revoked, expired (at expiresAt), used-up and wrong-user', async (store) => {
      const { alice, carol, dave } = await team(store);
      await store.createInvite(invite('two', 'web', alice.id, { maxUses: 2 }));
      const once = await store.useInvite('two', carol.id, NOW);
      assert.ok(once.ok);
      assert.equal(once.invite.uses, 1);
      const twice = await store.useInvite('two', dave.id, NOW);
      assert.ok(twice.ok && twice.invite.uses === 2);
      assert.deepEqual(await store.useInvite('two', carol.id, NOW), { ok: false, reason: 'used-up' });
      assert.equal((await store.getInvite('two'))?.uses, 2);

      assert.deepEqual(await store.useInvite('nope', carol.id, NOW), { ok: false, reason: 'unknown' });
      await store.createInvite(invite('revoked', 'web', alice.id));
      await store.revokeInvite('revoked');
      assert.deepEqual(await store.useInvite('revoked', carol.id, NOW), { ok: false, reason: 'revoked' });
      await store.createInvite(invite('expiring', 'web', alice.id, { expiresAt: NOW }));
      assert.deepEqual(await store.useInvite('expiring', carol.id, NOW), { ok: false, reason: 'expired' });
      assert.ok((await store.useInvite('expiring', carol.id, '2029-12-31T23:59:59.999Z')).ok);
      await store.createInvite(invite('bound', 'web', alice.id, { userId: carol.id }));
      assert.deepEqual(await store.useInvite('bound', dave.id, NOW), { ok: false, reason: 'wrong-user' });
      assert.equal((await store.getInvite('bound'))?.uses, 0);
      const bound = await store.useInvite('bound', carol.id, NOW);
      assert.ok(bound.ok && bound.invite.uses === 1 && bound.invite.userId === carol.id);
    });

    withStore('concurrent uses of a one-use invite: exactly one succeeds', async (store) => {
      const { alice } = await team(store);
      await store.createInvite(invite('once', 'web', alice.id));
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.useInvite('once', 100 + i, NOW)));
      assert.equal(results.filter((r) => r.ok).length, 1);
      assert.ok(results.every((r) => r.ok || r.reason === 'used-up'));
      assert.equal((await store.getInvite('once'))?.uses, 1);
    });

    withStore('access requests: created pending with the user name, listed newest first by tunnel or user, pendingOnly', async (store) => {
      const { alice, carol, dave } = await team(store);
      const first = await store.createAccessRequest({ id: 'r1', tunnel: 'web', userId: carol.id, role: 'connect', durationMs: 60_000, reason: 'deploy' });
      assert.deepEqual({ ...first, createdAt: '' }, {
        id: 'r1', tunnel: 'web', userId: carol.id, userName: 'carol', role: 'connect', durationMs: 60_000, reason: 'deploy',
        createdAt: '', status: 'pending', reviews: [], grantedUntil: null,
      });
      assert.match(first.createdAt, ISO);
      assert.deepEqual(await store.getAccessRequest('r1'), first);
      await store.createAccessRequest({ id: 'r2', tunnel: 'web', userId: dave.id, role: 'view', durationMs: 1, reason: '' });
      await store.createAccessRequest({ id: 'r3', tunnel: 'db', userId: carol.id, role: 'view', durationMs: 1, reason: '' });
      await store.createAccessRequest({ id: 'r4', tunnel: 'web', userId: carol.id, role: 'admin', durationMs: 1, reason: '' });
      await store.reviewAccessRequest('r4', { reviewerId: alice.id, decision: 'deny', reason: 'no', at: NOW }, 1, NOW);
      const ids = async (filter: Parameters<Store['listAccessRequests']>[0]): Promise<string[]> => (await store.listAccessRequests(filter)).map((r) => r.id);
      assert.deepEqual(await ids({ tunnel: 'web' }), ['r4', 'r2', 'r1']);
      assert.deepEqual(await ids({ tunnel: 'web', pendingOnly: true }), ['r2', 'r1']);
      assert.deepEqual(await ids({ userId: carol.id }), ['r4', 'r3', 'r1']);
      assert.deepEqual(await ids({ userId: carol.id, pendingOnly: true }), ['r3', 'r1']);
      assert.deepEqual(await ids({ tunnel: 'web', userId: carol.id }), ['r4', 'r1']);
      assert.deepEqual(await ids({}), ['r4', 'r3', 'r2', 'r1']);
      assert.deepEqual(await ids({ tunnel: 'nope' }), []);
      assert.equal(await store.getAccessRequest('nope'), undefined);
      await assert.rejects(store.createAccessRequest({ id: 'x', tunnel: 'nope', userId: carol.id, role: 'view', durationMs: 1, reason: '' }), { code: ErrorCode.TUNNEL_UNKNOWN });
    });

    withStore('reviewAccessRequest: approvals counted to approvalsNeeded, then approved until now + duration; repeats and closed refused', async (store) => {
      const { alice, bob, carol, dave } = await team(store);
      await store.createAccessRequest({ id: 'r', tunnel: 'web', userId: carol.id, role: 'connect', durationMs: 3_600_000, reason: 'deploy' });
      const one = await store.reviewAccessRequest('r', { reviewerId: alice.id, decision: 'approve', reason: 'ok', at: NOW }, 2, NOW);
      assert.ok(one.ok);
      assert.equal(one.request.status, 'pending');
      assert.deepEqual(one.request.reviews, [{ reviewerId: alice.id, reviewerName: 'alice', decision: 'approve', reason: 'ok', at: NOW }]);
      assert.equal(one.request.grantedUntil, null);
      assert.deepEqual(await store.reviewAccessRequest('r', { reviewerId: alice.id, decision: 'approve', reason: '', at: NOW }, 2, NOW), { ok: false, reason: 'already-reviewed' });
      const two = await store.reviewAccessRequest('r', { reviewerId: 0, decision: 'approve', reason: '', at: LATER }, 2, LATER);
      assert.ok(two.ok);
      assert.equal(two.request.status, 'approved');
      assert.equal(two.request.grantedUntil, '2030-01-02T01:00:00.000Z');
      assert.deepEqual(two.request.reviews.map((r) => r.reviewerName), ['alice', 'admin']);
      assert.deepEqual(await store.getAccessRequest('r'), two.request);
      assert.deepEqual(await store.reviewAccessRequest('r', { reviewerId: bob.id, decision: 'approve', reason: '', at: NOW }, 2, NOW), { ok: false, reason: 'closed' });
      assert.deepEqual(await store.reviewAccessRequest('nope', { reviewerId: bob.id, decision: 'approve', reason: '', at: NOW }, 2, NOW), { ok: false, reason: 'unknown' });

      await store.createAccessRequest({ id: 'd', tunnel: 'web', userId: dave.id, role: 'view', durationMs: 1000, reason: '' });
      await store.reviewAccessRequest('d', { reviewerId: alice.id, decision: 'approve', reason: '', at: NOW }, 3, NOW);
      const denied = await store.reviewAccessRequest('d', { reviewerId: bob.id, decision: 'deny', reason: 'not now', at: NOW }, 3, NOW);
      assert.ok(denied.ok);
      assert.equal(denied.request.status, 'denied');
      assert.equal(denied.request.grantedUntil, null);
      assert.deepEqual(await store.reviewAccessRequest('d', { reviewerId: 0, decision: 'approve', reason: '', at: NOW }, 3, NOW), { ok: false, reason: 'closed' });
    });

    withStore('concurrent reviews of a request needing 3 approvals: exactly 3 count, the rest find it closed', async (store) => {
      const { carol } = await team(store);
      await store.createAccessRequest({ id: 'r', tunnel: 'web', userId: carol.id, role: 'connect', durationMs: 1000, reason: '' });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.reviewAccessRequest('r', { reviewerId: 100 + i, decision: 'approve', reason: '', at: NOW }, 3, NOW)));
      assert.equal(results.filter((r) => r.ok).length, 3);
      assert.ok(results.every((r) => r.ok || r.reason === 'closed'));
      const request = await store.getAccessRequest('r');
      assert.equal(request?.status, 'approved');
      assert.equal(request?.reviews.length, 3);
      assert.deepEqual(request?.reviews.map((r) => r.reviewerName).every((n) => /^#10\d$/.test(n)), true);
    });

    withStore('deleteTunnel takes its grants, invites, requests and settings along, nothing of other tunnels', async (store) => {
      const { alice, carol } = await team(store);
      await store.setTunnelSettings('web', { approval: 'required', approvals: 2, maxDurationMs: null });
      await store.putGrant(grant('web', carol.id));
      await store.putGrant(grant('db', carol.id));
      await store.createInvite(invite('i', 'web', alice.id));
      await store.createInvite(invite('j', 'db', alice.id));
      await store.createAccessRequest({ id: 'r', tunnel: 'web', userId: carol.id, role: 'view', durationMs: 1, reason: '' });
      await store.createAccessRequest({ id: 's', tunnel: 'db', userId: carol.id, role: 'view', durationMs: 1, reason: '' });
      assert.equal(await store.deleteTunnel('web'), true);
      assert.deepEqual((await store.listGrantsOfUser(carol.id)).map((g) => g.tunnel), ['db']);
      assert.equal(await store.getInvite('i'), undefined);
      assert.equal(await store.getAccessRequest('r'), undefined);
      assert.deepEqual((await store.listAccessRequests({ userId: carol.id })).map((r) => r.id), ['s']);
      assert.deepEqual((await store.listInvites('db')).map((i) => i.id), ['j']);
      // Whoever claims the name next starts from nothing.
      await store.claimTunnel('web', carol.id);
      assert.deepEqual(await store.listGrants('web'), []);
      assert.deepEqual(await store.listInvites('web'), []);
      assert.deepEqual(await store.listAccessRequests({ tunnel: 'web' }), []);
      assert.deepEqual(await store.getTunnelSettings('web'), DEFAULT_TUNNEL_SETTINGS);
    });

    withStore('deleteUser takes its tunnels’ team records and its own grants and requests elsewhere', async (store) => {
      const { alice, bob, carol, dave } = await team(store);
      await store.putGrant(grant('web', carol.id));
      await store.putGrant(grant('db', carol.id));
      await store.putGrant(grant('db', dave.id));
      await store.createInvite(invite('i', 'web', alice.id));
      await store.createAccessRequest({ id: 'r', tunnel: 'web', userId: dave.id, role: 'view', durationMs: 1, reason: '' });
      await store.createAccessRequest({ id: 's', tunnel: 'db', userId: carol.id, role: 'view', durationMs: 1, reason: '' });
      await store.createAccessRequest({ id: 't', tunnel: 'db', userId: dave.id, role: 'view', durationMs: 1, reason: '' });
      assert.equal(await store.deleteUser('carol'), true);
      assert.deepEqual(await store.listGrantsOfUser(carol.id), []);
      assert.deepEqual((await store.listGrants('db')).map((g) => g.userName), ['dave']);
      assert.deepEqual((await store.listGrants('web')).map((g) => g.userName), []);
      assert.deepEqual((await store.listAccessRequests({ tunnel: 'db' })).map((r) => r.id), ['t']);
      assert.equal(await store.getAccessRequest('s'), undefined);
      assert.equal(await store.deleteUser('alice'), true);
      assert.equal(await store.getInvite('i'), undefined);
      assert.equal(await store.getAccessRequest('r'), undefined);
      assert.deepEqual((await store.listAccessRequests({ userId: dave.id })).map((r) => r.id), ['t']);
      assert.deepEqual((await store.listGrantsOfUser(dave.id)).map((g) => g.tunnel), ['db']);
      assert.equal((await store.getTunnel('db'))?.ownerId, bob.id);
    });

    withStore('sharedSecret: made once (32 random bytes, base64url), the same on later calls and on a second store', async (store) => {
      const secret = await store.sharedSecret('invites');
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(await store.sharedSecret('invites'), secret);
      assert.notEqual(await store.sharedSecret('other'), secret);
      const second = await twin(store);
      try {
        assert.equal(await second.sharedSecret('invites'), secret);
        const both = await Promise.all([store.sharedSecret('raced'), second.sharedSecret('raced')]);
        assert.equal(both[0], both[1]);
      } finally {
        await second.close();
      }
    });
  });
}
