import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditEntry } from '../../test-support/audit-entries.js';
import { escapeParam, FACILITIES, formatRfc5424, octetFrame, SD_ID } from './rfc5424.js';

/** RFC 5424's grammar, enough to take a message apart: PRI, the header fields, SD, MSG. */
const MESSAGE = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*\]) (.*)$/s;

describe('RFC 5424 messages', () => {
  test('header: PRI from facility and severity, the record time, node, tether, -, the event code', () => {
    const m = MESSAGE.exec(formatRfc5424(auditEntry()));
    assert.ok(m);
    assert.deepEqual(m.slice(1, 7), [String(10 * 8 + 4), '2026-12-01T10:46:57.141Z', 'node-1', 'tether', '-', 'access.denied']);
  });

  test('severity by outcome and kind; the facility can be chosen', () => {
    const pri = (overrides: Parameters<typeof auditEntry>[0], facility?: number) => Number(MESSAGE.exec(formatRfc5424(auditEntry(overrides), { facility }))?.[1]);
    const cases: [overrides: Parameters<typeof auditEntry>[0], severity: number][] = [
      [{ event: 'access.denied', outcome: 'failure' }, 4],
      [{ event: 'auth.failed', outcome: 'failure' }, 4],
      [{ event: 'user.created', outcome: 'success' }, 5],
      [{ event: 'member.granted', outcome: 'success' }, 5],
      [{ event: 'tunnel.settings_changed', outcome: 'success' }, 5],
      [{ event: 'access.granted', outcome: 'success' }, 6],
      [{ event: 'stream.closed', outcome: 'success' }, 6],
      [{ event: 'relay.started', outcome: 'success' }, 6],
    ];
    for (const [overrides, severity] of cases) assert.equal(pri(overrides), 10 * 8 + severity, JSON.stringify(overrides));
    assert.equal(pri({ outcome: 'success', event: 'access.granted' }, FACILITIES.local4), 20 * 8 + 6);
  });

  test('structured data: the clear fields and the decision, with ", \\ and ] escaped', () => {
    const text = formatRfc5424(auditEntry({ target: 'tunnel:a"b\\c]d', details: { action: 'x', reason: 'line\nbreak' } }));
    assert.ok(text.includes(`[${SD_ID} index="41" actor="user:bob" target="tunnel:a\\"b\\\\c\\]d" outcome="failure" node="node-1" action="x" reason="line break"]`), text);
    assert.equal(escapeParam('"\\]'), '\\"\\\\\\]');
  });

  test('sealed details: no decision parameters, the message still says what happened', () => {
    const text = formatRfc5424(auditEntry({ details: null }));
    assert.ok(text.includes(`[${SD_ID} index="41" actor="user:bob" target="tunnel:web" outcome="failure" node="node-1"] \ufeffaccess.denied: user:bob on tunnel:web, failure [#41]`), text);
  });

  test('MSG is UTF-8 with a BOM, one line', () => {
    const text = formatRfc5424(auditEntry({ target: 'tunnel:café\n日本' }));
    const msg = MESSAGE.exec(text)?.[8] ?? '';
    assert.ok(msg.startsWith('\ufeffaccess.denied: user:bob on tunnel:café 日本, failure'), msg);
    assert.ok(!text.includes('\n'));
  });

  test('header fields are printable ASCII: a node name with spaces or accents is mended, not sent raw', () => {
    const m = MESSAGE.exec(formatRfc5424(auditEntry({ node: 'nœud 1', event: 'x'.repeat(40) })));
    assert.equal(m?.[3], 'n_ud_1');
    assert.equal(m?.[6], 'x'.repeat(32));
  });

  test('octet counting counts bytes: multibyte UTF-8 (é, 日本) and the BOM', () => {
    const message = formatRfc5424(auditEntry({ actor: 'user:rené', target: 'tunnel:日本' }));
    const framed = octetFrame(message);
    const space = framed.indexOf(0x20);
    const length = Number(framed.subarray(0, space).toString('ascii'));
    assert.equal(length, Buffer.byteLength(message, 'utf8'));
    assert.ok(length > message.length, 'more bytes than characters');
    assert.equal(framed.length, space + 1 + length);
    assert.equal(framed.subarray(space + 1).toString('utf8'), message);
  });
});
