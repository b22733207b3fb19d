import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Identity } from '../identity.js';
import type { GrantRecord, TunnelRole } from '../ports/team-store.js';
import type { TunnelRecord } from '../ports/store.js';
import { decide } from './decide.js';
import type { Action } from './decision.js';
import { roleAllows } from './roles.js';

const NOW = Date.parse('2026-12-01T00:00:00.000Z');
const TUNNEL_ACTIONS: Action[] = ['tunnel.host', 'tunnel.connect', 'tunnel.view', 'tunnel.manage', 'tunnel.request', 'tunnel.delete'];
const tunnel: TunnelRecord = { name: 'web', ownerId: 1, ownerName: 'olga', createdAt: '2026-01-01T00:00:00.000Z', lastHostedAt: null };

const identity: fc.Arbitrary<Identity> = fc.oneof(
  fc.constant<Identity>({ name: 'olga', id: 1, admin: false }),
  fc.record({ name: fc.constantFrom('mia', 'ned'), id: fc.integer({ min: 2, max: 50 }), admin: fc.constant(false) }) as fc.Arbitrary<Identity>,
  fc.constant<Identity>({ name: 'admin', id: 0, admin: true }),
  fc.constant<Identity>({ name: 'node:b', id: -1, admin: false, peer: true }),
);

/** A grant in any state: any role, blocked or not, lapsed, lapsing later, or open-ended. */
const grant = (userId: number) =>
  fc.record({
    role: fc.constantFrom<TunnelRole>('admin', 'connect', 'view'),
    blocked: fc.boolean(),
    expiresIn: fc.option(fc.integer({ min: -3_600_000, max: 3_600_000 }), { nil: null }),
    source: fc.constantFrom<GrantRecord['source']>('invite', 'request', 'direct'),
  }).map((g): GrantRecord => ({
    tunnel: 'web', userId, userName: 'x', role: g.role, blocked: g.blocked, source: g.source, grantedBy: 1, createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: g.expiresIn === null ? null : new Date(NOW + (g.expiresIn === 0 ? 1 : g.expiresIn)).toISOString(),
  }));

const scenario = identity.chain((subject) => fc.record({
  subject: fc.constant(subject),
  action: fc.constantFrom(...TUNNEL_ACTIONS),
  grant: fc.option(grant(subject.id), { nil: undefined }),
}));

const live = (g: GrantRecord | undefined): boolean => g !== undefined && (g.expiresAt === null || Date.parse(g.expiresAt) > NOW);

test('property: a block beats every role, and nothing is allowed that no rule or grant gives', () => {
  fc.assert(fc.property(scenario, ({ subject, action, grant: g }) => {
    const decision = decide(subject, action, { kind: 'tunnel', name: 'web' }, { tunnel, grant: g, now: NOW });
    const owner = subject.id === tunnel.ownerId && !subject.peer;
    if (live(g) && g!.blocked && !owner && !subject.admin && !subject.peer) {
      assert.equal(decision.allow, false, `${subject.name} is blocked yet allowed ${action}`);
    }
    if (!decision.allow) return;
    const granted = live(g) && !g!.blocked && roleAllows(g!.role, action);
    const justified =
      (owner && action !== 'tunnel.request') ||
      (subject.admin && action !== 'tunnel.host' && action !== 'tunnel.request') ||
      (subject.peer === true && action === 'tunnel.connect') ||
      (action === 'tunnel.request' && !owner && !subject.admin && !subject.peer && !(live(g) && g!.blocked)) ||
      (!owner && !subject.admin && !subject.peer && action !== 'tunnel.host' && action !== 'tunnel.delete' && granted);
    assert.ok(justified, `${subject.name} was allowed ${action} by rule ${decision.rule} with grant ${JSON.stringify(g)}`);
  }), { numRuns: 5000 });
});

test('property: a lapsed grant is no grant at all', () => {
  fc.assert(fc.property(scenario, ({ subject, action, grant: g }) => {
    fc.pre(g !== undefined && !live(g));
    const withLapsed = decide(subject, action, { kind: 'tunnel', name: 'web' }, { tunnel, grant: g, now: NOW });
    const without = decide(subject, action, { kind: 'tunnel', name: 'web' }, { tunnel, now: NOW });
    assert.deepEqual(withLapsed, without);
  }), { numRuns: 2000 });
});

test('property: only the owner hosts; the relay admin may do everything else; a stranger learns nothing', () => {
  fc.assert(fc.property(scenario, ({ subject, action }) => {
    const decision = decide(subject, action, { kind: 'tunnel', name: 'web' }, { tunnel, now: NOW });
    if (action === 'tunnel.host') assert.equal(decision.allow, subject.id === 1 && !subject.peer);
    if (subject.admin && action !== 'tunnel.host' && action !== 'tunnel.request') assert.equal(decision.allow, true);
    if (!subject.admin && !subject.peer && subject.id !== 1 && ['tunnel.view', 'tunnel.connect', 'tunnel.manage', 'tunnel.delete'].includes(action)) {
      assert.equal(decision.code, 'TETHER_ERR_TUNNEL_UNKNOWN', 'no grant: the tunnel is not even named');
    }
  }), { numRuns: 2000 });
});

test('examples: roles, expiry and what each refusal says', () => {
  const mia: Identity = { name: 'mia', id: 7, admin: false };
  const g = (role: TunnelRole, extra: Partial<GrantRecord> = {}): GrantRecord => ({ tunnel: 'web', userId: 7, userName: 'mia', role, blocked: false, source: 'invite', grantedBy: 1, createdAt: '', expiresAt: null, ...extra });
  const at = (action: Action, grantRecord?: GrantRecord) => decide(mia, action, { kind: 'tunnel', name: 'web' }, { tunnel, grant: grantRecord, now: NOW });
  assert.equal(at('tunnel.connect', g('view')).reason, 'mia holds the view role on tunnel web, which does not allow connecting');
  assert.equal(at('tunnel.connect', g('view')).code, 'TETHER_ERR_TUNNEL_FORBIDDEN');
  assert.equal(at('tunnel.manage', g('connect')).reason, 'mia holds the connect role on tunnel web, which does not allow managing its sharing');
  const until = new Date(NOW + 60_000).toISOString();
  assert.deepEqual({ ...at('tunnel.connect', g('connect', { expiresAt: until })) }, { allow: true, rule: 'member', reason: 'mia holds the connect role on tunnel web', role: 'connect', until: NOW + 60_000 });
  assert.equal(at('tunnel.view', g('admin', { blocked: true })).reason, 'mia is blocked on tunnel web: ask its owner');
  assert.equal(at('tunnel.delete', g('admin')).reason, 'only the owner of tunnel web (or the relay admin) may delete it');
  assert.equal(at('tunnel.request').allow, true);
  assert.equal(at('tunnel.request', g('view', { blocked: true })).allow, false);
});
