import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditEntry } from '../../test-support/audit-entries.js';
import { categoryOf } from './audit-facts.js';
import { formatHec } from './hec.js';

describe('Splunk HEC events (ECS fields)', () => {
  test('envelope: epoch seconds with milliseconds, host, source, sourcetype, index only when given', () => {
    const event = formatHec(auditEntry());
    assert.equal(event.time, 1796122017.141);
    assert.deepEqual([event.host, event.source, event.sourcetype, 'index' in event], ['node-1', 'tether', 'tether:audit', false]);
    assert.equal(formatHec(auditEntry(), { index: 'security' }).index, 'security');
  });

  test('ECS names, nested (never dotted keys)', () => {
    const { event } = formatHec(auditEntry());
    assert.deepEqual(event, {
      '@timestamp': '2026-12-01T10:46:57.141Z',
      message: 'access.denied: user:bob on tunnel:web, failure (action tunnel.connect; rule not-owner; reason not a member) [#41]',
      event: { kind: 'event', category: ['authentication'], action: 'access.denied', outcome: 'failure', sequence: 41, reason: 'not a member', module: 'tether', dataset: 'tether.audit' },
      user: { name: 'bob' },
      source: { ip: '10.0.0.7' },
      rule: { name: 'not-owner' },
      observer: { hostname: 'node-1', vendor: 'Tether', product: 'Tether Relay' },
      tether: { actor: 'user:bob', target: 'tunnel:web', tunnel: 'web', action: 'tunnel.connect', details: auditEntry().details },
    });
    const keys = (value: unknown): string[] => (value && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).flatMap(([k, v]) => [k, ...keys(v)]) : []);
    assert.deepEqual(keys(event).filter((k) => k.includes('.') && k !== '@timestamp'), []);
  });

  test('the admin acting on a user: user.target.name; sealed details: null, no decision', () => {
    const { event } = formatHec(auditEntry({ event: 'user.deleted', outcome: 'success', actor: 'admin', target: 'user:carol', details: null }));
    assert.deepEqual(event.user, { target: { name: 'carol' } });
    assert.equal((event.tether as { details: unknown }).details, null);
    assert.equal((event.event as { outcome: string }).outcome, 'success');
  });

  test('categories by event code', () => {
    const cases: [string, string][] = [
      ['auth.failed', 'authentication'], ['access.granted', 'authentication'], ['user.token_rotated', 'iam'], ['member.blocked', 'iam'],
      ['invite.refused', 'iam'], ['request.approved', 'iam'], ['links.revoked', 'iam'], ['stream.closed', 'network'], ['streams.revoked', 'network'],
      ['tunnel.online', 'network'], ['tunnel.claimed', 'configuration'], ['tunnel.settings_changed', 'configuration'], ['relay.started', 'configuration'], ['something.new', 'configuration'],
    ];
    for (const [code, category] of cases) assert.equal(categoryOf(code), category, code);
  });
});
