import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogBuilder } from '../../test-support/audit-log-builder.js';
import { computeEvidence } from './evidence.js';
import { FAILED_SIGN_IN_THRESHOLD } from './gaps.js';
import { FRAMEWORK_IDS, frameworkOf, type FrameworkId, type GapId } from './frameworks.js';
import { integrityOf, mismatchedEntries, type Integrity } from './integrity.js';
import { buildReport } from './report.js';

const ALL = { from: '2025-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' };
const CONTEXT = { generatedAt: '2026-02-01T00:00:00.000Z', relay: 'https://relay.example' };
const INTACT: Integrity = { ok: true, records: 100, root: 'ab'.repeat(32), checkpointsChecked: 1, covering: { size: 100, time: '2026-02-01T00:00:00.000Z', kid: 'k1' }, mismatched: [] };

/** A log with none of the gaps: a review, grants that end, identity management, no failures. */
function clean(): LogBuilder {
  return new LogBuilder()
    .add('user.created', 'admin', 'user:bob', {}, { action: 'users.manage' })
    .add('tunnel.claimed', 'user:alice', 'tunnel:web')
    .add('request.created', 'user:bob', 'tunnel:web', { request: 'req_1', role: 'connect' })
    .add('request.reviewed', 'user:alice', 'tunnel:web', { request: 'req_1', decision: 'approve', user: 'bob' })
    .add('request.approved', 'user:alice', 'tunnel:web', { request: 'req_1', user: 'bob', until: '2099-01-01T00:00:00.000Z' })
    .add('member.granted', 'user:alice', 'tunnel:web', { user: 'bob', role: 'connect', source: 'request', expiresAt: '2099-01-01T00:00:00.000Z' });
}

const gapsOf = (framework: FrameworkId, log: LogBuilder, integrity: Integrity = INTACT): Map<string, GapId[]> => {
  const report = buildReport(framework, computeEvidence(log.records, ALL), integrity, CONTEXT);
  return new Map(report.controls.map((c) => [c.id, c.gaps.map((g) => g.id)]));
};
const allGaps = (m: Map<string, GapId[]>): Set<GapId> => new Set([...m.values()].flat());

describe('frameworks and their gap checks', () => {
  test('the catalogues name the controls the issue lists', () => {
    assert.deepEqual(frameworkOf('soc2').controls.map((c) => c.id), ['CC6.1', 'CC6.2', 'CC6.3', 'CC6.6', 'CC7.2']);
    assert.deepEqual(frameworkOf('iso27001').controls.map((c) => c.id), ['A.5.15', 'A.5.16', 'A.5.18', 'A.8.5', 'A.8.15', 'A.8.16']);
    assert.deepEqual(frameworkOf('hipaa').controls.map((c) => c.id), ['§164.312(a)(1)', '§164.312(b)', '§164.312(c)(1)', '§164.312(d)']);
    for (const id of FRAMEWORK_IDS) for (const c of frameworkOf(id).controls) assert.ok(c.asks.length > 20 && c.sections.length > 0, `${id} ${c.id}`);
  });

  for (const framework of FRAMEWORK_IDS) {
    test(`${framework}: a clean log has no gap`, () => {
      assert.deepEqual([...allGaps(gapsOf(framework, clean()))], []);
    });
  }

  // Each gap, and the control of each framework that must report it.
  const cases: { gap: GapId; log: () => LogBuilder; integrity?: Integrity; controls: Record<FrameworkId, string[]> }[] = [
    {
      gap: 'no-access-review',
      log: () => new LogBuilder().add('user.created', 'admin', 'user:bob').add('tunnel.claimed', 'user:alice', 'tunnel:web'),
      // §164.312 asks for no review (that is §164.308, out of the log's reach).
      controls: { soc2: ['CC6.2', 'CC6.3'], iso27001: ['A.5.18'], hipaa: [] },
    },
    {
      gap: 'grants-without-expiry',
      log: () => clean().add('member.granted', 'user:alice', 'tunnel:web', { user: 'carol', role: 'connect', source: 'direct', expiresAt: 'never' }),
      controls: { soc2: ['CC6.1', 'CC6.3'], iso27001: ['A.5.15', 'A.5.18'], hipaa: ['§164.312(a)(1)'] },
    },
    {
      gap: 'failed-sign-ins-without-follow-up',
      log: () => {
        const log = clean();
        for (let i = 0; i < FAILED_SIGN_IN_THRESHOLD; i++) log.add('auth.failed', 'anonymous', 'relay', { address: '10.1.1.1', token: 'hmac:x' }, { outcome: 'failure' });
        return log;
      },
      controls: { soc2: ['CC6.6', 'CC7.2'], iso27001: ['A.8.5', 'A.8.16'], hipaa: ['§164.312(d)'] },
    },
    {
      gap: 'no-admin-actions',
      log: () => new LogBuilder().add('tunnel.claimed', 'user:alice', 'tunnel:web').add('request.reviewed', 'user:alice', 'tunnel:web', { request: 'r', decision: 'deny', user: 'bob' }),
      controls: { soc2: ['CC6.2'], iso27001: ['A.5.16'], hipaa: [] },
    },
    {
      gap: 'log-not-intact',
      log: clean,
      integrity: { ...INTACT, ok: false, root: null, covering: null, problem: { kind: 'hash', index: 3, message: 'record 3 does not match its hash: its content was changed' } },
      controls: { soc2: ['CC6.1', 'CC7.2'], iso27001: ['A.8.15'], hipaa: ['§164.312(b)', '§164.312(c)(1)'] },
    },
    {
      gap: 'no-checkpoint-covers-period',
      log: clean,
      integrity: { ...INTACT, covering: null },
      controls: { soc2: ['CC6.1', 'CC7.2'], iso27001: ['A.8.15'], hipaa: ['§164.312(b)', '§164.312(c)(1)'] },
    },
    {
      gap: 'entries-differ-from-log',
      log: clean,
      integrity: { ...INTACT, mismatched: [4] },
      controls: { soc2: ['CC6.1', 'CC7.2'], iso27001: ['A.8.15'], hipaa: ['§164.312(b)', '§164.312(c)(1)'] },
    },
    {
      gap: 'details-unreadable',
      log: () => clean().add('stream.closed', 'user:bob', 'tunnel:web', {}, { unreadable: true }),
      controls: { soc2: ['CC7.2'], iso27001: ['A.8.15'], hipaa: ['§164.312(b)'] },
    },
  ];
  for (const c of cases) {
    for (const framework of FRAMEWORK_IDS) {
      test(`${framework}: ${c.gap} is reported by ${c.controls[framework].join(', ') || 'no control'}`, () => {
        const gaps = gapsOf(framework, c.log(), c.integrity);
        const reporting = [...gaps].filter(([, ids]) => ids.includes(c.gap)).map(([id]) => id);
        assert.deepEqual(reporting, c.controls[framework]);
      });
    }
  }

  test('failed sign-ins followed by a token rotation, or below the threshold, are not a gap', () => {
    const below = clean();
    for (let i = 0; i < FAILED_SIGN_IN_THRESHOLD - 1; i++) below.add('auth.failed', 'anonymous', 'relay', { address: '10.1.1.1' }, { outcome: 'failure' });
    assert.ok(!allGaps(gapsOf('soc2', below)).has('failed-sign-ins-without-follow-up'));
    const answered = clean();
    for (let i = 0; i < FAILED_SIGN_IN_THRESHOLD; i++) answered.add('auth.failed', 'anonymous', 'relay', { address: '10.1.1.1' }, { outcome: 'failure' });
    answered.add('user.token_rotated', 'admin', 'user:bob', {}, { action: 'users.manage' });
    assert.ok(!allGaps(gapsOf('soc2', answered)).has('failed-sign-ins-without-follow-up'));
  });

  test('an empty period is a gap of logging', () => {
    const report = buildReport('iso27001', computeEvidence([], ALL), { ...INTACT, covering: null }, CONTEXT);
    assert.deepEqual(report.controls.find((c) => c.id === 'A.8.15')!.gaps.map((g) => g.id), ['no-records']);
  });

  test('JSON shape: format, framework, period, integrity, evidence, controls with gaps as sentences', () => {
    const report = buildReport('hipaa', computeEvidence(clean().records, ALL), INTACT, CONTEXT);
    const parsed = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['format', 'framework', 'generatedAt', 'relay', 'period', 'integrity', 'evidence', 'controls', 'controlsWithGaps']);
    assert.equal(report.format, 'tether-compliance-report/1');
    assert.deepEqual(report.framework, { id: 'hipaa', name: frameworkOf('hipaa').name });
    assert.deepEqual(Object.keys(report.evidence), ['period', 'records', 'accessHolders', 'grants', 'removals', 'reviews', 'signIns', 'failedSignIns', 'denied', 'sessionsPerTunnel', 'adminActions']);
    assert.deepEqual(Object.keys(report.controls[0]), ['id', 'title', 'asks', 'evidence', 'gaps']);
    assert.ok(report.controls.find((c) => c.id === '§164.312(c)(1)')!.scope);
    const broken = buildReport('hipaa', computeEvidence(clean().records, ALL), { ...INTACT, covering: null }, CONTEXT);
    assert.equal(broken.controlsWithGaps, 2);
    assert.match(broken.controls[1].gaps[0].text, /^No signed checkpoint covers the period's last record \(index 5\)/);
  });
});

describe('integrity', () => {
  test('the first checked checkpoint past the last record covers it; a failed log has none', () => {
    const cps = [{ size: 3, time: 't1', kid: 'k' }, { size: 10, time: 't2', kid: 'k' }, { size: 20, time: 't3', kid: 'k' }];
    const ok = { ok: true, records: 20, root: 'r', checkpointsChecked: 3 };
    assert.deepEqual(integrityOf(ok, cps, 5, []).covering, { size: 10, time: 't2', kid: 'k' });
    assert.equal(integrityOf(ok, cps, 25, []).covering, null);
    assert.equal(integrityOf({ ...ok, checkpointsChecked: 1 }, cps, 5, []).covering, null, 'only checked checkpoints count');
    assert.equal(integrityOf({ ...ok, ok: false }, cps, 5, []).covering, null);
  });

  test('entries whose clear fields differ from the export, or are not in it, are named', () => {
    const records = clean().records;
    const changed = records.map((r) => (r.index === 2 ? { ...r, actor: 'user:mallory' } : r));
    assert.deepEqual(mismatchedEntries(records, records), []);
    assert.deepEqual(mismatchedEntries(changed, records), [2]);
    assert.deepEqual(mismatchedEntries(records, records.slice(0, 4)), [4, 5]);
  });
});
