import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeEvidence } from './evidence.js';
import { LogBuilder } from '../../test-support/audit-log-builder.js';

const ALL = { from: '2025-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' };

/** A small history: alice's tunnel, bob by invite, carol by request, sessions and failures. */
function scenario(): LogBuilder {
  return new LogBuilder()
    .add('user.created', 'admin', 'user:alice', {}, { action: 'users.manage' })
    .add('tunnel.claimed', 'user:alice', 'tunnel:web')
    .add('member.granted', 'user:alice', 'tunnel:web', { user: 'bob', role: 'connect', source: 'invite', expiresAt: 'never' })
    .add('request.created', 'user:carol', 'tunnel:web', { request: 'req_1', role: 'connect', durationMs: 3_600_000 })
    .add('request.reviewed', 'user:alice', 'tunnel:web', { request: 'req_1', decision: 'approve', user: 'carol' })
    .add('request.approved', 'user:alice', 'tunnel:web', { request: 'req_1', user: 'carol', until: '2026-01-01T02:00:00.000Z' })
    .add('member.granted', 'user:alice', 'tunnel:web', { user: 'carol', role: 'connect', source: 'request', expiresAt: '2026-01-01T02:00:00.000Z' })
    .add('access.granted', 'user:bob', 'relay', {}, { action: 'relay.connect', rule: 'authenticated' })
    .add('stream.closed', 'user:bob', 'tunnel:web', { up: 100, down: 2000, durationMs: 1500 }, { action: 'tunnel.connect' })
    .add('stream.closed', 'user:bob', 'tunnel:web', { up: 50, down: 5, durationMs: 500 }, { action: 'tunnel.connect' })
    .add('access.denied', 'user:dave', 'tunnel:web', {}, { action: 'tunnel.connect', rule: 'not-visible', outcome: 'failure' })
    .add('auth.failed', 'anonymous', 'relay', { address: '10.0.0.9', token: 'hmac:aa' }, { action: 'GET /v1/tunnels', outcome: 'failure' })
    .add('auth.failed', 'anonymous', 'relay', { address: '10.0.0.9', token: 'hmac:aa' }, { action: 'GET /v1/tunnels', outcome: 'failure' })
    .add('auth.failed', 'anonymous', 'relay', { address: '10.0.0.9', token: 'hmac:bb' }, { action: 'GET /v1/tunnels', outcome: 'failure' })
    .add('auth.failed', 'anonymous', 'relay', { address: '10.0.0.7' }, { action: 'GET /v1/tunnels', outcome: 'failure' })
    .add('member.removed', 'user:alice', 'tunnel:web', { user: 'bob' });
}

describe('computeEvidence', () => {
  test('figures of a period: grants, removals, reviews, sessions, failures, refusals, admin actions', () => {
    const log = scenario();
    const e = computeEvidence(log.records, ALL);
    assert.deepEqual(e.records, { inPeriod: 16, first: 0, last: 15, unreadable: 0, replayed: 16 });
    assert.deepEqual(e.grants.map((g) => [g.user, g.role, g.source, g.expiresAt, g.by]), [
      ['bob', 'connect', 'invite', null, 'user:alice'],
      ['carol', 'connect', 'request', '2026-01-01T02:00:00.000Z', 'user:alice'],
    ]);
    assert.deepEqual(e.removals.map((r) => [r.user, r.how, r.by, r.index]), [['bob', 'removed', 'user:alice', 15], ['carol', 'expired', 'expiry', null]], "carol's grant lapsed before the period's end");
    assert.deepEqual(e.reviews, [{ request: 'req_1', tunnel: 'web', user: 'carol', role: 'connect', requestedAt: log.records[3].time, reviewers: [{ by: 'user:alice', decision: 'approve', time: log.records[4].time }], outcome: 'approved', until: '2026-01-01T02:00:00.000Z' }]);
    assert.deepEqual(e.sessionsPerTunnel, [{ tunnel: 'web', sessions: 2, up: 150, down: 2005, durationMs: 2000, users: ['bob'], refused: 1 }]);
    assert.deepEqual(e.failedSignIns, {
      total: 4,
      bySource: [
        { address: '10.0.0.9', count: 3, tokens: 2, first: log.records[11].time, last: log.records[13].time },
        { address: '10.0.0.7', count: 1, tokens: 0, first: log.records[14].time, last: log.records[14].time },
      ],
    });
    assert.deepEqual(e.signIns, [{ user: 'bob', count: 1 }]);
    assert.deepEqual(e.denied, [{ actor: 'user:dave', action: 'tunnel.connect', target: 'tunnel:web', rule: 'not-visible', count: 1 }]);
    assert.deepEqual(e.adminActions.map((a) => [a.event, a.target]), [['user.created', 'user:alice']]);
  });

  test('access held at the end: owner and live grants, since when; an expiry in the period is an end', () => {
    const log = scenario();
    const before = computeEvidence(log.records, { from: ALL.from, to: '2026-01-01T01:30:00.000Z' });
    assert.deepEqual(before.accessHolders.map((h) => [h.user, h.role, h.source, h.since, h.expiresAt]), [
      ['alice', 'owner', 'owner', log.records[1].time, null],
      ['carol', 'connect', 'request', log.records[6].time, '2026-01-01T02:00:00.000Z'],
    ]);
    const afterExpiry = computeEvidence(log.records, { from: ALL.from, to: '2026-01-01T03:00:00.000Z' });
    assert.deepEqual(afterExpiry.accessHolders.map((h) => h.user), ['alice']);
    assert.deepEqual(afterExpiry.removals.map((r) => [r.user, r.how, r.time, r.index]), [['bob', 'removed', log.records[15].time, 15], ['carol', 'expired', '2026-01-01T02:00:00.000Z', null]]);
  });

  test('the period counts only its records, but access is replayed from index 0; a request made before is named', () => {
    const log = scenario();
    const from = log.records[4].time;
    const e = computeEvidence(log.records, { from, to: log.records[9].time });
    assert.deepEqual([e.records.inPeriod, e.records.first, e.records.last, e.records.replayed], [6, 4, 9, 10]);
    assert.deepEqual(e.grants.map((g) => g.user), ['carol'], "bob's grant was before the period");
    assert.deepEqual(e.accessHolders.map((h) => h.user), ['alice', 'bob', 'carol'], 'bob still holds access at its end');
    assert.equal(e.reviews[0].user, 'carol');
    assert.equal(e.reviews[0].requestedAt, log.records[3].time);
    assert.equal(e.failedSignIns.total, 0);
  });

  test('a changed grant keeps its since; blocks, user and tunnel deletions end access', () => {
    const log = new LogBuilder()
      .add('tunnel.claimed', 'user:alice', 'tunnel:web')
      .add('tunnel.claimed', 'user:erin', 'tunnel:db')
      .add('member.granted', 'user:alice', 'tunnel:web', { user: 'bob', role: 'view', source: 'direct', expiresAt: 'never' })
      .add('member.granted', 'user:alice', 'tunnel:web', { user: 'bob', role: 'connect', source: 'direct', expiresAt: 'never' })
      .add('member.granted', 'user:erin', 'tunnel:db', { user: 'carol', role: 'connect', source: 'direct', expiresAt: 'never' })
      .add('member.granted', 'user:alice', 'tunnel:web', { user: 'dave', role: 'connect', source: 'direct', expiresAt: 'never' });
    const since = computeEvidence(log.records, ALL).accessHolders.find((h) => h.user === 'bob')!;
    assert.deepEqual([since.role, since.since, since.changedAt], ['connect', log.records[2].time, log.records[3].time]);
    log.add('member.blocked', 'user:alice', 'tunnel:web', { user: 'dave' })
      .add('user.deleted', 'admin', 'user:erin', {}, { action: 'users.manage' })
      .add('tunnel.deleted', 'user:alice', 'tunnel:web', {}, { action: 'tunnel.delete' });
    const e = computeEvidence(log.records, ALL);
    assert.deepEqual(e.accessHolders, []);
    assert.deepEqual(e.removals.map((r) => [r.tunnel, r.user, r.how]), [
      ['web', 'dave', 'blocked'],
      ['db', 'carol', 'tunnel-deleted'],
      ['db', 'erin', 'user-deleted'],
      ['web', 'alice', 'tunnel-deleted'],
      ['web', 'bob', 'tunnel-deleted'],
    ]);
    assert.deepEqual(e.adminActions.map((a) => a.event), ['user.deleted', 'tunnel.deleted']);
  });

  test('records whose details cannot be opened are counted, not guessed at; records after the period are not read', () => {
    const log = new LogBuilder().add('stream.closed', 'user:bob', 'tunnel:web', {}, { unreadable: true }).add('auth.failed', 'anonymous', 'relay', { address: 'x' });
    const e = computeEvidence(log.records, { from: ALL.from, to: log.records[0].time });
    assert.deepEqual([e.records.inPeriod, e.records.unreadable, e.records.replayed, e.failedSignIns.total], [1, 1, 1, 0]);
    assert.deepEqual(e.sessionsPerTunnel, [{ tunnel: 'web', sessions: 1, up: 0, down: 0, durationMs: 0, users: ['bob'], refused: 0 }]);
  });
});
