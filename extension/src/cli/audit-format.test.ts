import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogVerdict } from '@tether/shared/audit';
import { auditFilter, auditTable, exportFormat, intactLine, parseTime, problemLine, verdictJson, VERIFY_EXIT } from './audit-format.js';
import { UsageError } from './output.js';

describe('audit times and filters', () => {
  test('ISO 8601 dates and times become UTC', () => {
    assert.equal(parseTime('2026-12-01', '--from'), '2026-12-01T00:00:00.000Z');
    assert.equal(parseTime('2026-12-01T09:30:00Z', '--from'), '2026-12-01T09:30:00.000Z');
    assert.equal(parseTime('2026-12-01T09:30:00.250+02:00', '--from'), '2026-12-01T07:30:00.250Z');
    assert.equal(parseTime('2026-12-01T09:30', '--to'), new Date(2026, 11, 1, 9, 30).toISOString(), 'no zone: local time');
  });

  for (const bad of ['yesterday', '', '1733040000', '2026-12-01T25:00Z', '2026-02-30x', '2026-12-01T09:30:00+0200']) {
    test(`${JSON.stringify(bad)} is a usage error naming the flag`, () => {
      assert.throws(() => parseTime(bad, '--to'), (err) => err instanceof UsageError && err.message.startsWith('--to must be an ISO 8601 time'));
    });
  }

  test('filters: only what was given, times normalised', () => {
    assert.deepEqual(auditFilter({}), {});
    assert.deepEqual(auditFilter({ from: '2026-12-01', tunnel: 'box', outcome: 'failure' }), { from: '2026-12-01T00:00:00.000Z', tunnel: 'box', outcome: 'failure' });
  });

  test('--format: jsonl by default, or a SIEM format; anything else is a usage error', () => {
    assert.equal(exportFormat(undefined), 'jsonl');
    for (const format of ['jsonl', 'syslog', 'cef', 'hec']) assert.equal(exportFormat(format), format);
    assert.throws(() => exportFormat('xml'), /--format must be one of jsonl, syslog, cef, hec, got "xml"/);
  });
});

describe('audit output', () => {
  test('the log table: INDEX TIME EVENT ACTOR TARGET OUTCOME, tabs in values flattened', () => {
    const table = auditTable([{ index: 7, time: '2026-12-01T09:00:00.000Z', event: 'auth.failed', actor: 'anonymous', target: 'relay\tx', outcome: 'failure', node: 'n', details: null }]);
    assert.deepEqual(table.header, ['INDEX', 'TIME', 'EVENT', 'ACTOR', 'TARGET', 'OUTCOME']);
    assert.deepEqual(table.rows, [['7', '2026-12-01T09:00:00.000Z', 'auth.failed', 'anonymous', 'relay x', 'failure']]);
  });

  const intact: LogVerdict = { ok: true, first: 0, records: 1234, root: 'ab'.repeat(32), checkpointsChecked: 2 };

  test('the intact summary', () => {
    assert.equal(intactLine(intact), `intact: 1234 records (0..1233), root ${'ab'.repeat(32)}, 2 checkpoints verified`);
    assert.equal(intactLine({ ...intact, records: 1, checkpointsChecked: 1 }), `intact: 1 record (0..0), root ${'ab'.repeat(32)}, 1 checkpoint verified`);
    assert.equal(intactLine({ ...intact, records: 0, checkpointsChecked: 0 }), `intact: 0 records (none), root ${'ab'.repeat(32)}, 0 checkpoints verified`);
    assert.equal(intactLine({ ...intact, first: 10, records: 5, root: null }), 'intact: 5 records (10..14), root not computed (the export does not start at record 0), 2 checkpoints verified');
  });

  test('problems: "record N: …" when a record is named, the sentence as it is otherwise', () => {
    const bad = (kind: NonNullable<LogVerdict['problem']>['kind'], index: number | null, message: string): LogVerdict => ({ ...intact, ok: false, root: null, problem: { kind, index, message } });
    assert.equal(problemLine(bad('gap', 4, 'record 4 is missing (the next record found is 5)')), 'record 4: is missing (the next record found is 5)');
    assert.equal(problemLine(bad('order', 5, 'record 5 is out of place: found record 4 there')), 'record 5: is out of place: found record 4 there');
    assert.equal(problemLine(bad('truncated', 8, 'the log ends after record 7 but …')), 'the log ends after record 7 but …');
    assert.equal(problemLine(bad('root', 0, 'records 0..9 do not match …')), 'records 0..9 do not match …');
    assert.equal(problemLine(bad('signature', null, 'checkpoint 1 (size 3): bad signature (key k)')), 'checkpoint 1 (size 3): bad signature (key k)');
    assert.deepEqual(JSON.parse(verdictJson(bad('hash', 2, 'm'))), { ok: false, first: 0, records: 1234, root: null, checkpointsChecked: 2, problem: { kind: 'hash', index: 2, message: 'm' } });
    assert.equal((JSON.parse(verdictJson(intact)) as { problem: unknown }).problem, null);
  });

  test('exit codes: intact 0, not intact 1, could not verify 2 (the usage code)', () => {
    assert.deepEqual(VERIFY_EXIT, { intact: 0, notIntact: 1, cannotVerify: 2 });
  });
});
