import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { ADMIN_IDENTITY, type Identity } from './identity.js';
import { authorize, type Action } from './policy.js';
import type { TunnelRecord } from './store.js';

const alice: Identity = { name: 'alice', id: 1, admin: false };
const bob: Identity = { name: 'bob', id: 2, admin: false };
const tunnelOf = (owner: Identity): TunnelRecord => ({ name: 'web', ownerId: owner.id, ownerName: owner.name, createdAt: '', lastHostedAt: null });

test('authorize: owners act on their tunnels, others are refused with a code', () => {
  const cases: [string, Identity, Action, TunnelRecord | undefined, string | undefined][] = [
    ['host an unclaimed name', alice, 'host', undefined, undefined],
    ['connect to an unknown tunnel', alice, 'connect', undefined, ErrorCode.TUNNEL_UNKNOWN],
    ['view an unknown tunnel', alice, 'view', undefined, ErrorCode.TUNNEL_UNKNOWN],
    ['owner hosts', alice, 'host', tunnelOf(alice), undefined],
    ['owner connects', alice, 'connect', tunnelOf(alice), undefined],
    ['owner views', alice, 'view', tunnelOf(alice), undefined],
    ['other user hosts', bob, 'host', tunnelOf(alice), ErrorCode.TUNNEL_FORBIDDEN],
    ['other user connects', bob, 'connect', tunnelOf(alice), ErrorCode.TUNNEL_FORBIDDEN],
    ['admin connects to a user tunnel', ADMIN_IDENTITY, 'connect', tunnelOf(alice), ErrorCode.TUNNEL_FORBIDDEN],
    ['admin uses its own tunnel', ADMIN_IDENTITY, 'connect', tunnelOf(ADMIN_IDENTITY), undefined],
  ];
  for (const [name, identity, action, tunnel, code] of cases) {
    assert.equal(authorize(identity, action, tunnel, 'web')?.code, code, name);
  }
});
