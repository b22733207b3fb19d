import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import type { Store } from '../ports/store.js';
import { teamStoreContract, type StoreTwin } from './team-store-contract.js';
import { auditLogContract } from './audit-log-contract.js';
import { usageStoreContract } from './usage-store-contract.js';

/** Makes a fresh, empty store for one test; the contract closes it afterwards. */
export type StoreFactory = () => Promise<Store>;

const hash = (n: string): string => n.repeat(64).slice(0, 64);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The behaviour every `Store` implementation must have, as node:test tests: one suite run by
 * the SQLite store's test file and again by the Redis store's (standalone and Redis Cluster).
 * `twin` opens a second store on the same database, for what must agree across relay nodes.
 */
export function storeContract(name: string, factory: StoreFactory, twin: StoreTwin): void {
  const withStore = (title: string, body: (store: Store) => Promise<void>): void => {
    test(title, async (t) => {
      const store = await factory();
      t.after(() => store.close());
      await body(store);
    });
  };

  describe(`Store contract: ${name}`, () => {
    withStore('createUser hands out unique ids and the user is found by name and by token hash', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      const bob = await store.createUser('bob', hash('b'));
      assert.equal(alice.name, 'alice');
      assert.ok(Number.isInteger(alice.id) && alice.id > 0);
      assert.ok(bob.id > alice.id);
      assert.match(alice.createdAt, ISO);
      assert.deepEqual(await store.findUserByName('alice'), alice);
      assert.deepEqual(await store.findUserByTokenHash(hash('b')), bob);
      assert.equal(await store.findUserByName('carol'), undefined);
      assert.equal(await store.findUserByTokenHash(hash('c')), undefined);
    });

    withStore('createUser refuses a taken name with USER_EXISTS and leaves the token index as it was', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      await assert.rejects(store.createUser('alice', hash('x')), { code: ErrorCode.USER_EXISTS });
      assert.equal(await store.findUserByTokenHash(hash('x')), undefined);
      assert.deepEqual(await store.findUserByTokenHash(hash('a')), alice);
      assert.equal((await store.listUsers()).length, 1);
    });

    withStore('concurrent creates of one name: exactly one succeeds', async (store) => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.createUser('dup', hash(String(i)))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, ErrorCode.USER_EXISTS);
    });

    withStore('listUsers is sorted by name', async (store) => {
      for (const n of ['carol', 'alice', 'bob']) await store.createUser(n, hash(n));
      assert.deepEqual((await store.listUsers()).map((u) => u.name), ['alice', 'bob', 'carol']);
    });

    withStore('rotateUserToken swaps the hash: the old one finds nobody, the new one the same user', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      assert.equal(await store.rotateUserToken('alice', hash('n')), true);
      assert.equal(await store.findUserByTokenHash(hash('a')), undefined);
      assert.deepEqual(await store.findUserByTokenHash(hash('n')), alice);
      assert.equal(await store.rotateUserToken('nobody', hash('z')), false);
      assert.equal(await store.findUserByTokenHash(hash('z')), undefined);
    });

    withStore('deleteUser removes the user, its token and the tunnels it owns, nobody else’s', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      const bob = await store.createUser('bob', hash('b'));
      await store.claimTunnel('a1', alice.id);
      await store.claimTunnel('a2', alice.id);
      await store.claimTunnel('b1', bob.id);
      await store.claimTunnel('adm', 0);
      assert.equal(await store.deleteUser('alice'), true);
      assert.equal(await store.findUserByName('alice'), undefined);
      assert.equal(await store.findUserByTokenHash(hash('a')), undefined);
      assert.equal(await store.getTunnel('a1'), undefined);
      assert.deepEqual(await store.listTunnels(alice.id), []);
      assert.deepEqual((await store.listTunnels()).map((t) => t.name), ['adm', 'b1']);
      assert.equal(await store.deleteUser('alice'), false);
      // A name freed by deletion gets a new id: grants and tunnels of the old user never pass on.
      const again = await store.createUser('alice', hash('a'));
      assert.ok(again.id > bob.id);
      assert.equal((await store.claimTunnel('a1', bob.id)).ownerName, 'bob');
    });

    withStore('claimTunnel: the first writer wins and later claims get the existing record', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      const bob = await store.createUser('bob', hash('b'));
      const first = await store.claimTunnel('web', alice.id);
      assert.deepEqual({ ...first, createdAt: '' }, { name: 'web', ownerId: alice.id, ownerName: 'alice', createdAt: '', lastHostedAt: null, disabledAt: null, disabledReason: null });
      assert.match(first.createdAt, ISO);
      assert.deepEqual(await store.claimTunnel('web', bob.id), first);
      assert.deepEqual(await store.getTunnel('web'), first);
      assert.deepEqual(await store.listTunnels(bob.id), []);
      assert.equal((await store.claimTunnel('admins', 0)).ownerName, 'admin');
    });

    withStore('concurrent claims of one name agree on one owner', async (store) => {
      const users = [];
      for (let i = 0; i < 6; i++) users.push(await store.createUser(`u${i}`, hash(String(i))));
      const claims = await Promise.all(users.map((u) => store.claimTunnel('race', u.id)));
      const owners = new Set(claims.map((c) => c.ownerId));
      assert.equal(owners.size, 1);
      const [owner] = owners;
      const owned = await Promise.all(users.map((u) => store.listTunnels(u.id)));
      assert.deepEqual(owned.map((list) => list.length), users.map((u) => (u.id === owner ? 1 : 0)));
    });

    withStore('markTunnelHosted stamps lastHostedAt; an unknown name is ignored', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      await store.claimTunnel('web', alice.id);
      await store.markTunnelHosted('web');
      assert.match((await store.getTunnel('web'))?.lastHostedAt ?? '', ISO);
      await store.markTunnelHosted('nothing');
      assert.equal(await store.getTunnel('nothing'), undefined);
    });

    withStore('listTunnels lists all or one owner’s, sorted by name, with owner names', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      const bob = await store.createUser('bob', hash('b'));
      for (const [n, owner] of [['zeta', alice.id], ['alpha', bob.id], ['mid', alice.id]] as const) await store.claimTunnel(n, owner);
      assert.deepEqual((await store.listTunnels()).map((t) => [t.name, t.ownerName]), [['alpha', 'bob'], ['mid', 'alice'], ['zeta', 'alice']]);
      assert.deepEqual((await store.listTunnels(alice.id)).map((t) => t.name), ['mid', 'zeta']);
      assert.deepEqual(await store.listTunnels(999), []);
    });

    withStore('deleteTunnel frees the name for anyone; a second delete is false', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      const bob = await store.createUser('bob', hash('b'));
      await store.claimTunnel('web', alice.id);
      assert.equal(await store.deleteTunnel('web'), true);
      assert.equal(await store.deleteTunnel('web'), false);
      assert.deepEqual(await store.listTunnels(alice.id), []);
      assert.equal((await store.claimTunnel('web', bob.id)).ownerId, bob.id);
      assert.deepEqual((await store.listTunnels(bob.id)).map((t) => t.name), ['web']);
    });

    withStore('updateUser sets the role and blocks; a second block keeps its first time; unblock clears it', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      assert.equal(alice.role, 'member');
      assert.equal(alice.blockedAt, null);
      const admin = await store.updateUser('alice', { role: 'admin' });
      assert.equal(admin?.role, 'admin');
      assert.equal(admin?.blockedAt, null);
      const blocked = await store.updateUser('alice', { blocked: true });
      assert.match(blocked?.blockedAt ?? '', ISO);
      assert.equal(blocked?.role, 'admin');
      const again = await store.updateUser('alice', { blocked: true });
      assert.equal(again?.blockedAt, blocked?.blockedAt);
      // Every read path carries the standing: the token look-up is what authentication uses.
      assert.deepEqual(await store.findUserByTokenHash(hash('a')), again);
      assert.deepEqual((await store.listUsers())[0], again);
      const unblocked = await store.updateUser('alice', { blocked: false, role: 'member' });
      assert.equal(unblocked?.blockedAt, null);
      assert.equal(unblocked?.role, 'member');
      assert.equal(unblocked?.id, alice.id);
      assert.equal(await store.updateUser('nobody', { blocked: true }), undefined);
    });

    withStore('setTunnelDisabled disables with a reason, keeps the first time, and enables again', async (store) => {
      const alice = await store.createUser('alice', hash('a'));
      const claimed = await store.claimTunnel('web', alice.id);
      assert.equal(claimed.disabledAt, null);
      const disabled = await store.setTunnelDisabled('web', 'abuse report #12');
      assert.match(disabled?.disabledAt ?? '', ISO);
      assert.equal(disabled?.disabledReason, 'abuse report #12');
      assert.equal(disabled?.ownerName, 'alice');
      const again = await store.setTunnelDisabled('web', 'still');
      assert.equal(again?.disabledAt, disabled?.disabledAt);
      assert.equal(again?.disabledReason, 'still');
      assert.deepEqual(await store.getTunnel('web'), again);
      assert.deepEqual((await store.listTunnels())[0], again);
      const enabled = await store.setTunnelDisabled('web', null);
      assert.equal(enabled?.disabledAt, null);
      assert.equal(enabled?.disabledReason, null);
      assert.equal(await store.setTunnelDisabled('nope', 'x'), undefined);
    });

    withStore('ping resolves while the store answers', async (store) => {
      await store.ping();
    });
  });

  teamStoreContract(name, withStore, twin);
  auditLogContract(name, withStore, twin);
  usageStoreContract(name, withStore, twin);
}
