import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { Auditor } from '../audit/auditor.js';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { ADMIN_IDENTITY, type Identity } from '../identity.js';
import { systemClock } from '../ports/clock.js';
import { SqliteStore } from '../stores/sqlite/sqlite-store.js';
import { mayServe, Policy } from './policy.js';

const alice: Identity = { name: 'alice', id: 1, admin: false };
const bob: Identity = { name: 'bob', id: 2, admin: false };

function setup(t: TestContext): { policy: Policy; store: SqliteStore; audit: MemoryAuditSink } {
  const store = new SqliteStore(':memory:');
  t.after(() => store.close());
  const audit = new MemoryAuditSink();
  return { policy: new Policy(store, new Auditor(audit, systemClock)), store, audit };
}

test('authorizeHost claims a free name once, audits the claim, and refuses the next identity', async (t) => {
  const { policy, store, audit } = setup(t);
  const first = await policy.authorizeHost(alice, 'web');
  assert.deepEqual([first.allow, first.rule, first.tunnel?.ownerName], [true, 'unclaimed-name', '#1']);
  assert.equal((await store.getTunnel('web'))?.ownerId, alice.id);
  const again = await policy.authorizeHost(alice, 'web');
  assert.deepEqual([again.allow, again.rule], [true, 'owner']);
  const other = await policy.authorizeHost(bob, 'web');
  assert.deepEqual([other.allow, other.code], [false, ErrorCode.TUNNEL_FORBIDDEN]);
  assert.deepEqual(audit.events().map((e) => [e.code, e.subject?.name, e.rule ?? '']), [
    ['access.granted', 'alice', 'unclaimed-name'],
    ['tunnel.claimed', 'alice', ''],
    ['access.granted', 'alice', 'owner'],
    ['access.denied', 'bob', 'not-owner'],
  ]);
});

test('authorizeHost: the loser of a race for a new name is refused as the winner now owns it', async (t) => {
  const { policy, store } = setup(t);
  // Bob claims between the decision and the claim of alice's request.
  const realClaim = store.claimTunnel.bind(store);
  store.claimTunnel = async (name, ownerId) => {
    await realClaim(name, bob.id);
    return realClaim(name, ownerId);
  };
  const decision = await policy.authorizeHost(alice, 'web');
  assert.deepEqual([decision.allow, decision.code, decision.rule], [false, ErrorCode.TUNNEL_FORBIDDEN, 'not-owner']);
});

test('visibleTunnels: the admin sees every tunnel, a user only its own, and the listing is audited', async (t) => {
  const { policy, store, audit } = setup(t);
  await store.claimTunnel('a', alice.id);
  await store.claimTunnel('b', bob.id);
  assert.deepEqual((await policy.visibleTunnels(ADMIN_IDENTITY)).map((r) => r.name), ['a', 'b']);
  assert.deepEqual((await policy.visibleTunnels(bob)).map((r) => r.name), ['b']);
  assert.deepEqual(audit.events().map((e) => [e.action, e.rule]), [['tunnels.list', 'admin'], ['tunnels.list', 'list-own']]);
});

test('mayServe: a host link serves a tunnel only while its identity owns it', () => {
  const record = { name: 'web', ownerId: alice.id, ownerName: 'alice', createdAt: '', lastHostedAt: null };
  assert.equal(mayServe(alice.id, record), true);
  assert.equal(mayServe(bob.id, record), false);
  assert.equal(mayServe(alice.id, undefined), false);
});
