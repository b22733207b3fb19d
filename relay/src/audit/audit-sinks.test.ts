import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent } from '../ports/audit-sink.js';
import { Auditor } from './auditor.js';
import { AuditEventCode } from './event-codes.js';
import { JsonLinesAuditSink } from './json-lines-sink.js';
import { MemoryAuditSink } from './memory-sink.js';

const clock = { now: () => Date.UTC(2026, 10, 30, 12, 0, 0), monotonic: () => 0 };
const alice = { id: 1, name: 'alice', admin: false };

test('Auditor stamps the time and only the public fields of the subject', () => {
  const sink = new MemoryAuditSink();
  const auditor = new Auditor(sink, clock);
  auditor.record(AuditEventCode.ACCESS_DENIED, { ...alice, token: 'secret' } as typeof alice, 'tunnel.connect', 'tunnel:web', { rule: 'not-owner', reason: 'no' });
  auditor.record(AuditEventCode.AUTH_FAILED, null, 'GET /v1/tunnels', 'relay');
  assert.deepEqual(sink.events(), [
    { code: 'access.denied', at: '2026-11-30T12:00:00.000Z', subject: alice, action: 'tunnel.connect', resource: 'tunnel:web', rule: 'not-owner', reason: 'no' },
    { code: 'auth.failed', at: '2026-11-30T12:00:00.000Z', subject: null, action: 'GET /v1/tunnels', resource: 'relay' },
  ]);
});

test('MemoryAuditSink keeps the newest events up to its capacity', () => {
  const sink = new MemoryAuditSink(2);
  const auditor = new Auditor(sink, clock);
  for (const resource of ['a', 'b', 'c']) auditor.record(AuditEventCode.USER_CREATED, alice, 'users.manage', resource);
  assert.deepEqual(sink.events().map((e) => e.resource), ['b', 'c']);
});

test('JsonLinesAuditSink appends one JSON object per line to a 0600 file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-audit-'));
  const file = join(dir, 'audit.jsonl');
  const errors: Error[] = [];
  const sink = new JsonLinesAuditSink(file, (err) => errors.push(err));
  const auditor = new Auditor(sink, clock);
  auditor.record(AuditEventCode.USER_CREATED, alice, 'users.manage', 'user:bob');
  auditor.record(AuditEventCode.USER_DELETED, alice, 'users.manage', 'user:bob');
  await sink.flush();
  await sink.close();
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
  assert.deepEqual(lines.map((e) => e.code), ['user.created', 'user.deleted']);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(errors, []);
  // A closed sink drops events instead of throwing.
  auditor.record(AuditEventCode.USER_CREATED, alice, 'users.manage', 'user:carol');
  await sink.close();
});

test('JsonLinesAuditSink reports an unwritable file once and never throws', async () => {
  const errors: Error[] = [];
  const sink = new JsonLinesAuditSink('/proc/tether-cannot-write-here/audit.jsonl', (err) => errors.push(err));
  await new Promise((resolve) => setTimeout(resolve, 50));
  sink.record({ code: 'user.created', at: '', subject: null, action: 'x', resource: 'y' });
  await sink.flush();
  await sink.close();
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOENT');
});

test('docs/audit-events.md lists exactly the event codes of event-codes.ts', () => {
  const doc = readFileSync(join(__dirname, '../../../docs/audit-events.md'), 'utf8');
  const table = doc.slice(doc.indexOf('<!-- audit-event-codes'), doc.indexOf('## Actions and rules'));
  const documented = [...table.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.values(AuditEventCode).sort());
});
