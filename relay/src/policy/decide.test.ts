import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from '@tether/shared';
import { ADMIN_IDENTITY, visitorIdentity, type Identity } from '../identity.js';
import type { TunnelRecord } from '../ports/store.js';
import { decide } from './decide.js';
import type { Action, Resource } from './decision.js';

const alice: Identity = { name: 'alice', id: 1, admin: false };
const bob: Identity = { name: 'bob', id: 2, admin: false };
const tunnelOf = (owner: Identity, name = 'web'): TunnelRecord => ({ name, ownerId: owner.id, ownerName: owner.name, createdAt: '', lastHostedAt: null });
const disabledOf = (owner: Identity): TunnelRecord => ({ ...tunnelOf(owner), disabledAt: '2026-12-01T00:00:00.000Z', disabledReason: 'abuse report' });
const web: Resource = { kind: 'tunnel', name: 'web' };
const relay: Resource = { kind: 'relay' };

test('decide: owners act on their tunnels, others are refused with a code and a rule', () => {
  const cases: [string, Identity, Action, Resource, TunnelRecord | undefined, string | undefined, string][] = [
    ['host an unclaimed name', alice, 'tunnel.host', web, undefined, undefined, 'unclaimed-name'],
    ['connect to an unknown tunnel', alice, 'tunnel.connect', web, undefined, ErrorCode.TUNNEL_UNKNOWN, 'no-such-tunnel'],
    ['view an unknown tunnel', alice, 'tunnel.view', web, undefined, ErrorCode.TUNNEL_UNKNOWN, 'no-such-tunnel'],
    ['owner hosts', alice, 'tunnel.host', web, tunnelOf(alice), undefined, 'owner'],
    ['owner connects', alice, 'tunnel.connect', web, tunnelOf(alice), undefined, 'owner'],
    ['owner views', alice, 'tunnel.view', web, tunnelOf(alice), undefined, 'owner'],
    ['other user hosts', bob, 'tunnel.host', web, tunnelOf(alice), ErrorCode.TUNNEL_FORBIDDEN, 'not-owner'],
    ['other user connects', bob, 'tunnel.connect', web, tunnelOf(alice), ErrorCode.TUNNEL_UNKNOWN, 'not-visible'],
    ['other user views', bob, 'tunnel.view', web, tunnelOf(alice), ErrorCode.TUNNEL_UNKNOWN, 'not-visible'],
    ['admin connects to a user tunnel', ADMIN_IDENTITY, 'tunnel.connect', web, tunnelOf(alice), undefined, 'admin'],
    ['admin views a user tunnel', ADMIN_IDENTITY, 'tunnel.view', web, tunnelOf(alice), undefined, 'admin'],
    ['admin manages a user tunnel', ADMIN_IDENTITY, 'tunnel.manage', web, tunnelOf(alice), undefined, 'admin'],
    ['admin hosts a user tunnel', ADMIN_IDENTITY, 'tunnel.host', web, tunnelOf(alice), ErrorCode.TUNNEL_FORBIDDEN, 'not-owner'],
    ['admin uses its own tunnel', ADMIN_IDENTITY, 'tunnel.connect', web, tunnelOf(ADMIN_IDENTITY), undefined, 'owner'],
    ['owner deletes', alice, 'tunnel.delete', web, tunnelOf(alice), undefined, 'owner'],
    ['admin deletes a user tunnel', ADMIN_IDENTITY, 'tunnel.delete', web, tunnelOf(alice), undefined, 'admin'],
    ['other user deletes', bob, 'tunnel.delete', web, tunnelOf(alice), ErrorCode.TUNNEL_UNKNOWN, 'not-visible'],
    ['delete an unknown tunnel', ADMIN_IDENTITY, 'tunnel.delete', web, undefined, ErrorCode.TUNNEL_UNKNOWN, 'no-such-tunnel'],
    ['a visitor of a public URL connects to its tunnel', visitorIdentity('web', 'public'), 'tunnel.connect', web, tunnelOf(alice), undefined, 'visitor'],
    ['a visitor of a public URL connects to another tunnel', visitorIdentity('api', 'public'), 'tunnel.connect', web, tunnelOf(alice), ErrorCode.TUNNEL_UNKNOWN, 'not-visible'],
    ['a visitor views the tunnel', visitorIdentity('web', 'token'), 'tunnel.view', web, tunnelOf(alice), ErrorCode.TUNNEL_UNKNOWN, 'not-visible'],
    ['a visitor hosts the tunnel', visitorIdentity('web', 'token'), 'tunnel.host', web, tunnelOf(alice), ErrorCode.TUNNEL_FORBIDDEN, 'not-owner'],
    ['a user opens a connector link', alice, 'relay.connect', relay, undefined, undefined, 'authenticated'],
    ['a user manages users', alice, 'users.manage', relay, undefined, ErrorCode.FORBIDDEN, 'not-admin'],
    ['the admin manages users', ADMIN_IDENTITY, 'users.manage', relay, undefined, undefined, 'admin'],
    ['a user asks for the counts', alice, 'relay.stats', relay, undefined, ErrorCode.FORBIDDEN, 'not-admin'],
    ['the admin asks for the counts', ADMIN_IDENTITY, 'relay.stats', relay, undefined, undefined, 'admin'],
    ['owner hosts a disabled tunnel', alice, 'tunnel.host', web, disabledOf(alice), ErrorCode.TUNNEL_DISABLED, 'disabled'],
    ['owner connects to a disabled tunnel', alice, 'tunnel.connect', web, disabledOf(alice), ErrorCode.TUNNEL_DISABLED, 'disabled'],
    ['admin connects to a disabled tunnel', ADMIN_IDENTITY, 'tunnel.connect', web, disabledOf(alice), ErrorCode.TUNNEL_DISABLED, 'disabled'],
    ['a visitor connects to a disabled tunnel', visitorIdentity('web', 'public'), 'tunnel.connect', web, disabledOf(alice), ErrorCode.TUNNEL_DISABLED, 'disabled'],
    ['owner views a disabled tunnel', alice, 'tunnel.view', web, disabledOf(alice), undefined, 'owner'],
    ['admin manages a disabled tunnel', ADMIN_IDENTITY, 'tunnel.manage', web, disabledOf(alice), undefined, 'admin'],
    // A stranger learns nothing, not even that the tunnel is disabled.
    ['other user connects to a disabled tunnel', bob, 'tunnel.connect', web, disabledOf(alice), ErrorCode.TUNNEL_UNKNOWN, 'not-visible'],
  ];
  for (const [name, identity, action, resource, tunnel, code, rule] of cases) {
    const decision = decide(identity, action, resource, { tunnel });
    assert.equal(decision.code, code, name);
    assert.equal(decision.allow, code === undefined, name);
    assert.equal(decision.rule, rule, name);
    assert.ok(decision.reason.length > 0, name);
  }
});

test('decide: listings are scoped, all for the admin and own for users', () => {
  assert.equal(decide(ADMIN_IDENTITY, 'tunnels.list', relay, {}).scope, 'all');
  assert.equal(decide(alice, 'tunnels.list', relay, {}).scope, 'own');
});

const identityArb = fc.oneof(
  fc.constant(ADMIN_IDENTITY),
  fc.record({ name: fc.constantFrom('alice', 'bob', 'carol'), id: fc.integer({ min: 1, max: 5 }), admin: fc.constant(false) }),
);
const actionArb = fc.constantFrom<Action>('relay.connect', 'tunnel.host', 'tunnel.connect', 'tunnel.view', 'tunnel.delete', 'tunnels.list', 'users.manage', 'relay.stats');
const tunnelArb = fc.option(fc.record({
  name: fc.constant('t'),
  ownerId: fc.integer({ min: 0, max: 5 }),
  ownerName: fc.constant('someone'),
  createdAt: fc.constant(''),
  lastHostedAt: fc.constant(null),
}), { nil: undefined });

test('decide (property): every decision is well formed and follows ownership', () => {
  fc.assert(fc.property(identityArb, actionArb, tunnelArb, (subject, action, tunnel) => {
    const resource: Resource = action.startsWith('tunnel.') ? { kind: 'tunnel', name: 't' } : relay;
    const decision = decide(subject, action, resource, { tunnel });
    // A refusal always carries a code a caller can report; an allowance never does.
    assert.equal(decision.allow, decision.code === undefined);
    assert.ok(decision.reason.length > 0);
    if (action === 'tunnel.delete') {
      assert.equal(decision.allow, tunnel !== undefined && (tunnel.ownerId === subject.id || subject.admin));
    } else if (action.startsWith('tunnel.')) {
      const owns = tunnel !== undefined && tunnel.ownerId === subject.id;
      const claimable = tunnel === undefined && action === 'tunnel.host';
      // Without grants: only the owner (or the first host of a free name) acts on a tunnel, and the
      // relay admin on every tunnel but as its host.
      assert.equal(decision.allow, owns || claimable || (subject.admin && tunnel !== undefined && action !== 'tunnel.host'));
      // Only a host is told that a name is taken; a refusal never tells anyone else the tunnel exists.
      if (!decision.allow) assert.equal(decision.code, tunnel && action === 'tunnel.host' ? ErrorCode.TUNNEL_FORBIDDEN : ErrorCode.TUNNEL_UNKNOWN);
    }
    if (action === 'users.manage' || action === 'relay.stats') assert.equal(decision.allow, subject.admin);
    if (action === 'relay.connect' || action === 'tunnels.list') assert.equal(decision.allow, true);
    // Deciding twice gives the same answer: decide is pure.
    assert.deepEqual(decide(subject, action, resource, { tunnel }), decision);
  }), { numRuns: 2000 });
});
