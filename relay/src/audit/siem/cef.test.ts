import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditEntry } from '../../test-support/audit-entries.js';
import { escapeExtension, escapeHeader, formatCef } from './cef.js';

/**
 * A CEF parser written from the format's description (ArcSight CEF 25), independent of the
 * formatter: seven header fields split on unescaped `|`, then `key=value` pairs where a value
 * runs to the space before the next unescaped `key=`.
 */
function parseCef(line: string): { header: string[]; extension: Record<string, string> } {
  const header: string[] = [];
  let field = '';
  let at = 0;
  while (header.length < 7) {
    const c = line[at++];
    if (c === undefined) throw new Error('a CEF header has 7 fields');
    if (c === '\\') field += line[at++];
    else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  const rest = line.slice(at);
  const extension: Record<string, string> = {};
  const keys = [...rest.matchAll(/(?:^| )([A-Za-z0-9_]+)=/g)].filter((m) => {
    let slashes = 0;
    for (let i = (m.index ?? 0) + m[0].length - 2; i >= 0 && rest[i] === '\\'; i--) slashes++;
    // A key's = is unescaped; a key's first character follows a space that is not escaped either.
    return slashes % 2 === 0 && !/\\$/.test(rest.slice(0, m.index ?? 0).replace(/\\\\/g, ''));
  });
  keys.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = i + 1 < keys.length ? keys[i + 1].index ?? rest.length : rest.length;
    extension[m[1]] = rest.slice(start, end).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return { header, extension };
}

describe('CEF events', () => {
  test('header: version 0, vendor, product, version, the event code, a sentence, the severity', () => {
    const { header } = parseCef(formatCef(auditEntry(), '1.2.3'));
    assert.deepEqual(header, ['CEF:0', 'Tether', 'Tether Relay', '1.2.3', 'access.denied', 'access.denied: user:bob on tunnel:web, failure (action tunnel.connect; rule not-owner; reason not a member) [#41]', '7']);
  });

  test('extensions in the standard keys, the tunnel in cs1 and the record index in cn1', () => {
    const { extension } = parseCef(formatCef(auditEntry(), '1'));
    assert.equal(extension.rt, String(Date.parse('2026-12-01T10:46:57.141Z')));
    assert.equal(extension.suser, 'bob');
    assert.equal(extension.src, '10.0.0.7');
    assert.equal(extension.act, 'tunnel.connect');
    assert.equal(extension.outcome, 'failure');
    assert.equal(extension.reason, 'not a member');
    assert.deepEqual([extension.cs1Label, extension.cs1, extension.cs2Label, extension.cs2], ['tunnel', 'web', 'rule', 'not-owner']);
    assert.deepEqual([extension.cn1Label, extension.cn1], ['recordIndex', '41']);
    assert.equal(extension.dvchost, 'node-1');
    assert.equal(extension.duser, undefined);
    const user = parseCef(formatCef(auditEntry({ event: 'user.created', outcome: 'success', actor: 'admin', target: 'user:carol', details: null }), '1'));
    assert.deepEqual([user.extension.suser, user.extension.duser, user.header[6]], ['admin', 'carol', '5']);
  });

  test('escaping round-trips: |, \\, = and newlines in header and extension values', () => {
    const nasty = 'a|b\\c=d\ne\rf g=h';
    const line = formatCef(auditEntry({ event: 'x|y\\z', target: `tunnel:${nasty}`, details: { reason: nasty, rule: 'k=v' } }), 'v|1\\');
    assert.ok(!line.includes('\n') && !line.includes('\r'), 'one line');
    const { header, extension } = parseCef(line);
    assert.equal(header[3], 'v|1\\');
    assert.equal(header[4], 'x|y\\z');
    assert.equal(extension.reason, nasty);
    assert.equal(extension.cs1, nasty);
    assert.equal(extension.cs3, `tunnel:${nasty}`);
    assert.equal(extension.cs2, 'k=v');
    assert.equal(escapeHeader('a|b\\c\nd'), 'a\\|b\\\\c d');
    assert.equal(escapeExtension('a=b\\c\nd\re|f'), 'a\\=b\\\\c\\nd\\re|f');
  });

  test('multibyte names survive (é, 日本)', () => {
    const { extension } = parseCef(formatCef(auditEntry({ actor: 'user:rené', target: 'tunnel:日本' }), '1'));
    assert.deepEqual([extension.suser, extension.cs1], ['rené', '日本']);
  });
});
