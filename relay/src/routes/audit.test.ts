import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ErrorCode } from '@tether/shared';
import { exportLines, parsePublicKeys, verifyConsistency, verifyInclusion, verifyLog, type Checkpoint } from '@tether/shared/audit';
import { archiveToFolder } from '../audit/archive-files.js';
import { generateAuditKeyring, type AuditKeyring } from '../audit/audit-keys.js';
import { fingerprint } from '../audit/details-cipher.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, openLink } from '../test-support/testing.js';

const admin = bearer(ADMIN_TOKEN);

async function auditedRelay(t: Parameters<typeof createTestRelay>[0], keys: AuditKeyring = generateAuditKeyring()) {
  return createTestRelay(t, {}, ':memory:', { auditLog: { keys, checkpointIntervalMs: 0 } });
}

test('the admin reads the log with filters and pages, the details opened; a bad token is kept only as its HMAC', async (t) => {
  const keys = generateAuditKeyring();
  const relay = await auditedRelay(t, keys);
  await createUser(relay, 'alice');
  await createUser(relay, 'bob');
  const badToken = 'tth_not-a-real-token-at-all-0000000000000000000';
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/tunnels', headers: bearer(badToken) })).statusCode, 401);

  const created = await relay.app.inject({ method: 'GET', url: '/v1/audit?event=user.created', headers: admin });
  assert.equal(created.statusCode, 200);
  const body = created.json<{ entries: { index: number; actor: string; target: string; details: { action: string } }[]; next: number | null }>();
  assert.deepEqual(body.entries.map((e) => [e.actor, e.target, e.details.action]), [['admin', 'user:alice', 'users.manage'], ['admin', 'user:bob', 'users.manage']]);
  assert.equal(body.next, null);

  const page = (await relay.app.inject({ method: 'GET', url: '/v1/audit?limit=2', headers: admin })).json<{ entries: { index: number }[]; next: number }>();
  assert.deepEqual(page.entries.map((e) => e.index), [0, 1]);
  assert.equal(page.next, 1);
  const second = (await relay.app.inject({ method: 'GET', url: `/v1/audit?limit=2&after=${page.next}`, headers: admin })).json<{ entries: { index: number }[] }>();
  assert.deepEqual(second.entries.map((e) => e.index), [2, 3]);

  const failed = (await relay.app.inject({ method: 'GET', url: '/v1/audit?outcome=failure&event=auth.failed', headers: admin })).json<{ entries: { details: { detail: Record<string, string> } }[] }>();
  assert.equal(failed.entries.length, 1);
  assert.equal(failed.entries[0].details.detail.token, fingerprint(badToken, keys.salt));
  const exported = await relay.app.inject({ method: 'GET', url: '/v1/audit/export', headers: admin });
  assert.doesNotMatch(exported.body, /not-a-real-token/);
});

test('export as syslog, CEF and HEC: the same records, one message per line, in order', async (t) => {
  const relay = await auditedRelay(t);
  for (const name of ['rene', 'yuki']) await createUser(relay, name);
  const jsonl = exportLines((await relay.app.inject({ method: 'GET', url: '/v1/audit/export', headers: admin })).body);
  const indexes = jsonl.map((l) => (JSON.parse(l) as { index: number }).index);
  const cases: [format: string, type: RegExp, index: (line: string) => number][] = [
    ['syslog', /^text\/plain/, (l) => Number(/^<\d+>1 \S+ \S+ tether - \S+ \[tether@32473 index="(\d+)"/.exec(l)?.[1])],
    ['cef', /^text\/plain/, (l) => Number(/^CEF:0\|Tether\|Tether Relay\|.* cn1=(\d+)/.exec(l)?.[1])],
    ['hec', /^application\/x-ndjson/, (l) => (JSON.parse(l) as { event: { event: { sequence: number } } }).event.event.sequence],
  ];
  for (const [format, type, index] of cases) {
    const res = await relay.app.inject({ method: 'GET', url: `/v1/audit/export?format=${format}`, headers: admin });
    assert.equal(res.statusCode, 200, format);
    assert.match(res.headers['content-type'] as string, type);
    const lines = res.body.split('\n').filter(Boolean);
    // Each export may add records of its own (the admin's request): the earlier ones come first, the same.
    assert.deepEqual(lines.map(index).slice(0, indexes.length), indexes, format);
    assert.deepEqual(lines.map(index), lines.map((_, i) => i), format);
    assert.ok(res.body.includes('user:rene') && res.body.includes('yuki'), `${format}: names intact`);
    if (format === 'syslog') for (const line of lines) assert.ok(line.includes('] \ufeff'), 'MSG starts with a BOM');
  }
});

test('export, keys and checkpoints verify offline; proofs check against the checkpoint roots', async (t) => {
  const relay = await auditedRelay(t);
  for (const name of ['a1', 'a2', 'a3']) await createUser(relay, name);
  const first = (await relay.app.inject({ method: 'POST', url: '/v1/audit/checkpoint', headers: admin })).json<Checkpoint>();
  for (const name of ['b1', 'b2']) await createUser(relay, name);
  const second = (await relay.app.inject({ method: 'POST', url: '/v1/audit/checkpoint', headers: admin })).json<Checkpoint>();
  assert.ok(second.size > first.size);

  const alice = await createUser(relay, 'alice');
  const keys = await relay.app.inject({ method: 'GET', url: '/v1/audit/keys', headers: bearer(alice) });
  assert.equal(keys.statusCode, 200, 'any signed-in user may fetch the public keys');
  const pem = keys.json<{ pem: string; keys: { kid: string; active: boolean }[] }>();
  assert.equal(pem.keys.length, 1);
  assert.equal(pem.keys[0].kid, first.kid);

  const exported = await relay.app.inject({ method: 'GET', url: '/v1/audit/export?format=jsonl', headers: admin });
  assert.match(exported.headers['content-type'] as string, /application\/x-ndjson/);
  const lines = exportLines(exported.body);
  const stored = (await relay.app.inject({ method: 'GET', url: '/v1/audit/checkpoints', headers: admin })).json<{ checkpoints: Checkpoint[] }>().checkpoints;
  assert.deepEqual(stored, [first, second]);
  const verdict = verifyLog(lines, { keys: parsePublicKeys(pem.pem), checkpoints: stored });
  assert.equal(verdict.ok, true, verdict.problem?.message);
  assert.equal(verdict.checkpointsChecked, 2);

  for (const index of [0, 2, first.size - 1]) {
    const proof = (await relay.app.inject({ method: 'GET', url: `/v1/audit/proof?index=${index}&size=${first.size}`, headers: admin })).json<{ leaf: string; root: string; proof: string[] }>();
    assert.equal(proof.root, first.root);
    assert.ok(verifyInclusion(index, first.size, Buffer.from(proof.leaf, 'hex'), proof.proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(first.root, 'hex')));
  }
  const consistency = (await relay.app.inject({ method: 'GET', url: `/v1/audit/consistency?from=${first.size}&to=${second.size}`, headers: admin })).json<{ oldRoot: string; newRoot: string; proof: string[] }>();
  assert.equal(consistency.oldRoot, first.root);
  assert.equal(consistency.newRoot, second.root);
  assert.ok(verifyConsistency(first.size, second.size, Buffer.from(first.root, 'hex'), Buffer.from(second.root, 'hex'), consistency.proof.map((h) => Buffer.from(h, 'hex'))));
});

test('bad audit queries get coded 4xx answers; users are refused; a relay without a log says how to get one', async (t) => {
  const relay = await auditedRelay(t);
  const alice = await createUser(relay, 'alice');
  const cases: [string, number, string][] = [
    ['/v1/audit?limit=0', 400, 'limit must be 1 to 1000'],
    ['/v1/audit?limit=abc', 400, 'limit'],
    ['/v1/audit?outcome=maybe', 400, 'outcome'],
    ['/v1/audit?from=yesterday', 400, 'from'],
    ['/v1/audit?tunnel=web&target=relay', 400, 'tunnel or target'],
    ['/v1/audit?colour=red', 400, 'colour'],
    ['/v1/audit/proof?index=999', 400, 'not in a tree'],
    ['/v1/audit/proof?index=0&size=999', 400, 'fewer than size'],
    ['/v1/audit/consistency?from=0', 400, 'at least 1'],
    ['/v1/audit/export?format=xml', 400, 'format'],
  ];
  for (const [url, status, message] of cases) {
    const res = await relay.app.inject({ method: 'GET', url, headers: admin });
    assert.equal(res.statusCode, status, url);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, ErrorCode.INVALID_ARGUMENT, url);
    assert.ok(body.message.includes(message), `${url}: ${body.message}`);
  }
  const refused = await relay.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(alice) });
  assert.equal(refused.statusCode, 403);
  const none = await createTestRelay(t);
  const missing = await none.app.inject({ method: 'GET', url: '/v1/audit', headers: admin });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.json<{ message: string }>().message, /keeps no audit log/);
});

test('fail closed: while the audit log cannot be written, requests are refused before they act, and served again once it can', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tether.db');
  const relay = await createTestRelay(t, {}, file, { auditLog: { keys: generateAuditKeyring(), checkpointIntervalMs: 0, failClosed: true } });
  await createUser(relay, 'alice');
  const side = new Database(file);
  t.after(() => side.close());
  // The log's table moved away behind the relay's back: every append fails from now on.
  side.exec('ALTER TABLE audit_log RENAME TO audit_log_away');
  const first = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: admin, payload: { name: 'bob' } });
  const refused = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: admin, payload: { name: 'carol' } });
  assert.equal(refused.statusCode, 503, `bob: ${first.statusCode}`);
  assert.equal(refused.json<{ code: string }>().code, ErrorCode.STORE_UNAVAILABLE);
  assert.match(refused.json<{ message: string }>().message, /fail closed.*nothing was done/);
  const users = (await relay.app.inject({ method: 'GET', url: '/v1/users', headers: admin }));
  assert.equal(users.statusCode, 503);
  side.exec('ALTER TABLE audit_log_away RENAME TO audit_log');
  let status = 0;
  for (let i = 0; i < 40 && status !== 201; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = (await relay.app.inject({ method: 'POST', url: '/v1/users', headers: admin, payload: { name: 'carol' } })).statusCode;
  }
  assert.equal(status, 201, 'served again once the log is writable');
  const exported = await relay.app.inject({ method: 'GET', url: '/v1/audit/export', headers: admin });
  const verdict = verifyLog(exportLines(exported.body));
  assert.equal(verdict.ok, true, verdict.problem?.message);
  assert.ok(exported.body.includes('"event":"user.created"'));
});

test('prune archives the old records, a prune checkpoint keeps the rest verifiable on its own, and archive + rest verify whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-prune-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const archiveDir = join(dir, 'archive');
  const keys = generateAuditKeyring();
  const relay = await createTestRelay(t, {}, join(dir, 'tether.db'), { auditLog: { keys, checkpointIntervalMs: 0, archive: archiveToFolder(archiveDir) } });
  for (let i = 0; i < 8; i++) await createUser(relay, `u${i}`);
  const before = (await relay.app.inject({ method: 'POST', url: '/v1/audit/checkpoint', headers: admin })).json<Checkpoint>();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const cutoff = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (let i = 0; i < 4; i++) await createUser(relay, `v${i}`);

  const answer = (await relay.app.inject({ method: 'POST', url: '/v1/audit/prune', headers: admin, payload: { before: cutoff } })).json<{ pruned: number; from: number; to: number; archive: string }>();
  assert.equal(answer.from, 0);
  assert.equal(answer.to, before.size - 1, 'every record before the cutoff, and none after');
  assert.equal(answer.archive, `audit-0-${before.size - 1}.jsonl`);
  const again = (await relay.app.inject({ method: 'POST', url: '/v1/audit/prune', headers: admin, payload: { before: cutoff } })).json<{ pruned: number }>();
  assert.equal(again.pruned, 0, 'a second prune finds nothing');
  for (let i = 0; i < 3; i++) await createUser(relay, `w${i}`);
  await relay.app.inject({ method: 'POST', url: '/v1/audit/checkpoint', headers: admin });

  const rest = exportLines((await relay.app.inject({ method: 'GET', url: '/v1/audit/export', headers: admin })).body);
  assert.equal((JSON.parse(rest[0]) as { index: number }).index, before.size, 'the export starts after the pruned records');
  const entries = (await relay.app.inject({ method: 'GET', url: '/v1/audit?event=user.created', headers: admin })).json<{ entries: { target: string }[] }>().entries;
  assert.ok(entries.every((e) => !/^user:u/.test(e.target)), 'pruned records are not listed');
  assert.ok(entries.some((e) => e.target === 'user:w2'));
  const pruned = (await relay.app.inject({ method: 'GET', url: '/v1/audit?event=audit.pruned', headers: admin })).json<{ entries: { actor: string; details: { detail: { from: number; to: number; archive: string } } }[] }>().entries;
  assert.deepEqual(pruned.map((e) => [e.actor, e.details.detail.from, e.details.detail.to, e.details.detail.archive]), [['admin', 0, before.size - 1, answer.archive]]);

  const checkpoints = (await relay.app.inject({ method: 'GET', url: '/v1/audit/checkpoints', headers: admin })).json<{ checkpoints: Checkpoint[] }>().checkpoints;
  const publicKeys = parsePublicKeys((await relay.app.inject({ method: 'GET', url: '/v1/audit/keys', headers: admin })).json<{ pem: string }>().pem);
  const alone = verifyLog(rest, { keys: publicKeys, checkpoints });
  assert.equal(alone.ok, true, alone.problem?.message);
  assert.equal(alone.first, before.size);
  assert.equal(alone.checkpointsChecked, 2, 'the one of the same size as the prune, and the one after');
  const archived = exportLines(readFileSync(join(archiveDir, answer.archive), 'utf8'));
  assert.equal(archived.length, before.size);
  const whole = verifyLog([...archived, ...rest], { keys: publicKeys, checkpoints });
  assert.equal(whole.ok, true, whole.problem?.message);
  assert.equal(whole.checkpointsChecked, 3, 'the one before the prune, the prune checkpoint, and the one after');
  const withoutPrune = verifyLog(rest, { keys: publicKeys, checkpoints: checkpoints.filter((c) => c.frontier === undefined) });
  assert.equal(withoutPrune.problem?.kind, 'gap', 'without the prune checkpoint the missing start is a gap');
  const tampered = [...rest];
  tampered[0] = tampered[0].replace('"outcome":"success"', '"outcome":"failure"');
  assert.equal(verifyLog(tampered, { keys: publicKeys, checkpoints }).problem?.index, before.size);

  const refusals = await createTestRelay(t, {}, ':memory:', { auditLog: { keys: generateAuditKeyring(), checkpointIntervalMs: 0 } });
  const noArchive = await refusals.app.inject({ method: 'POST', url: '/v1/audit/prune', headers: admin, payload: { before: cutoff } });
  assert.equal(noArchive.statusCode, 400);
  assert.match(noArchive.json<{ message: string }>().message, /--audit-archive/);
  const future = await relay.app.inject({ method: 'POST', url: '/v1/audit/prune', headers: admin, payload: { before: '2999-01-01T00:00:00Z' } });
  assert.equal(future.statusCode, 400);
});

test('a limit that refuses a connection is audited as limit.refused, a failure with the address', async (t) => {
  const relay = await createTestRelay(t, { maxLinksPerUser: 1 }, ':memory:', { auditLog: { keys: generateAuditKeyring(), checkpointIntervalMs: 0 } });
  const alice = await createUser(relay, 'alice');
  await relay.listen();
  await openLink(relay, '/v1/connect', alice);
  await assert.rejects(openLink(relay, '/v1/connect', alice), /refused with 429/);
  const entries = (await relay.app.inject({ method: 'GET', url: '/v1/audit?event=limit.refused', headers: admin })).json<{ entries: { actor: string; target: string; outcome: string; details: { action: string; reason: string; detail: { address: string } } }[] }>().entries;
  assert.equal(entries.length, 1);
  assert.deepEqual([entries[0].actor, entries[0].target, entries[0].outcome, entries[0].details.action], ['user:alice', 'relay', 'failure', 'relay.connect']);
  assert.match(entries[0].details.reason, /already has 1 connections/);
  assert.equal(entries[0].details.detail.address, '127.0.0.1');
});
