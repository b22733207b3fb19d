import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogBuilder } from '../../test-support/audit-log-builder.js';
import { computeEvidence } from './evidence.js';
import type { Integrity } from './integrity.js';
import { buildReport } from './report.js';
import { bytesText, durationText, escapeHtml, renderHtml } from './report-html.js';

const HOSTILE = '<script>alert(1)</script>';
const INTACT: Integrity = { ok: true, records: 9, root: 'ab'.repeat(32), checkpointsChecked: 1, covering: { size: 9, time: '2026-02-01T00:00:00.000Z', kid: 'k1' }, mismatched: [] };

/** A report whose every name, address and reason is hostile markup. */
function hostileReport() {
  const log = new LogBuilder()
    .add('user.created', 'admin', `user:${HOSTILE}`)
    .add('tunnel.claimed', `user:${HOSTILE}`, `tunnel:${HOSTILE}`)
    .add('member.granted', `user:${HOSTILE}`, `tunnel:${HOSTILE}`, { user: `"><img src=x onerror=alert(2)>`, role: HOSTILE, source: 'direct', expiresAt: 'never' })
    .add('request.reviewed', `user:${HOSTILE}`, `tunnel:${HOSTILE}`, { request: HOSTILE, decision: HOSTILE, user: HOSTILE })
    .add('auth.failed', 'anonymous', 'relay', { address: HOSTILE, token: 'hmac:1' }, { outcome: 'failure' })
    .add('stream.closed', `user:${HOSTILE}`, `tunnel:${HOSTILE}`, { up: 10, down: 20, durationMs: 30 })
    .add('access.denied', `user:${HOSTILE}`, `tunnel:${HOSTILE}`, {}, { action: HOSTILE, rule: HOSTILE, outcome: 'failure' });
  return buildReport('soc2', computeEvidence(log.records, { from: '2025-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' }), INTACT, { generatedAt: '2026-02-01T00:00:00.000Z', relay: `https://x/${HOSTILE}` });
}

describe('the HTML report', () => {
  test('a user named <script>alert(1)</script> appears escaped, everywhere; no script, no handler, no outside load', () => {
    const html = renderHtml(hostileReport());
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('&#34;&#62;&#60;img src=x onerror=alert(2)&#62;'));
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
  });

  test('escapeHtml covers the five characters that matter', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });

  test('tables with headers and captions: one per section, each control linked from the summary', () => {
    const report = hostileReport();
    const html = renderHtml(report);
    for (const c of report.controls) assert.ok(html.includes(`<a href="#control-${c.id}">${c.id}</a>`), c.id);
    for (const id of ['integrity', 'accessHolders', 'grants', 'removals', 'reviews', 'signIns', 'failedSignIns', 'denied', 'sessions', 'adminActions']) assert.ok(html.includes(`<section id="${id}">`), id);
    assert.match(html, /<caption>Sessions per tunnel<\/caption><thead><tr><th scope="col">Tunnel<\/th><th scope="col" class="num">Sessions<\/th>/);
    assert.match(html, /@media print/);
  });

  test('figures read as people read them', () => {
    assert.equal(bytesText(512), '512 B');
    assert.equal(bytesText(8277), '8.1 KiB (8277 B)');
    assert.equal(durationText(1500), '1.5 s');
    assert.equal(durationText(3_723_000), '1 h 2 min');
  });
});
