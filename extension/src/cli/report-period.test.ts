import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { UsageError } from './output.js';
import { findChromium, renderPdf } from './report-pdf.js';
import { DEFAULT_PERIOD_DAYS, reportFormat, reportFramework, reportPeriod } from './report-period.js';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');

describe('report compliance: period, framework, format', () => {
  test(`no dates: the ${DEFAULT_PERIOD_DAYS} days up to now`, () => {
    assert.deepEqual(reportPeriod({}, NOW), { from: '2026-09-02T10:00:00.000Z', to: '2026-12-01T10:00:00.000Z' });
  });

  test('a date alone: --from at its start, --to at its end (UTC); ISO 8601 times as given', () => {
    assert.deepEqual(reportPeriod({ from: '2026-10-01', to: '2026-12-31' }, NOW), { from: '2026-10-01T00:00:00.000Z', to: '2026-12-31T23:59:59.999Z' });
    assert.deepEqual(reportPeriod({ from: '2026-10-01T08:00:00+02:00', to: '2026-10-02T00:00:00Z' }, NOW), { from: '2026-10-01T06:00:00.000Z', to: '2026-10-02T00:00:00.000Z' });
    assert.deepEqual(reportPeriod({ to: '2026-06-30' }, NOW).from, '2026-04-01T23:59:59.999Z');
  });

  const usage: [string, () => unknown, RegExp][] = [
    ['a date that is not one', () => reportPeriod({ from: 'last monday' }, NOW), /^--from must be an ISO 8601 time/],
    ['--from after --to', () => reportPeriod({ from: '2026-12-02', to: '2026-12-01' }, NOW), /^--from \(2026-12-02\) is after --to \(2026-12-01\)$/],
    ['no --framework', () => reportFramework(undefined), /^missing --framework: soc2, iso27001, hipaa$/],
    ['an unknown framework', () => reportFramework('pci'), /^--framework must be one of soc2, iso27001, hipaa, got "pci"$/],
    ['an unknown format', () => reportFormat('docx', 'x'), /^--format must be one of html, json, pdf/],
  ];
  for (const [what, fn, message] of usage) {
    test(`${what}: a usage error`, () => assert.throws(fn, (err) => err instanceof UsageError && message.test(err.message)));
  }

  test('--format, else the extension of --out, else html', () => {
    assert.equal(reportFormat('pdf', 'r.html'), 'pdf');
    assert.equal(reportFormat(undefined, 'r.JSON'), 'json');
    assert.equal(reportFormat(undefined, 'r.pdf'), 'pdf');
    assert.equal(reportFormat(undefined, 'report'), 'html');
    assert.equal(reportFramework('iso27001'), 'iso27001');
  });
});

describe('report compliance: PDF', () => {
  test('no Chromium on PATH: a coded error saying to install it or use --format html', async () => {
    assert.equal(findChromium({ PATH: '/nonexistent' }), undefined);
    await assert.rejects(renderPdf('<p>x</p>', '/nonexistent/x.pdf', { env: { PATH: '/nonexistent' } }), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCode.PDF_RENDER_FAILED);
      assert.match(err.message, /install it \(apt install chromium\).+--format html/);
      return true;
    });
  });

  test('a browser that fails: a coded error, no file', async () => {
    await assert.rejects(renderPdf('<p>x</p>', '/nonexistent/x.pdf', { env: { TETHER_CHROMIUM: '/bin/false' } }), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCode.PDF_RENDER_FAILED);
      assert.match(err.message, /^\/bin\/false did not print the PDF \(exit 1\)/);
      return true;
    });
  });
});
