import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditLogStore } from '../ports/audit-log.js';
import type { AuditEvent } from '../ports/audit-sink.js';
import { SqliteStore } from '../stores/sqlite/sqlite-store.js';
import { generateAuditKeyring } from './audit-keys.js';
import { ChainedAuditLog, type ChainedAuditLogOptions } from './chained-log.js';
import { AuditEventCode } from './event-codes.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-chained-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const clock = { now: () => Date.now(), monotonic: () => performance.now() };
let files = 0;

const event = (n: number): AuditEvent => ({
  code: AuditEventCode.STREAM_CLOSED,
  at: new Date().toISOString(),
  subject: { id: 7, name: 'alice', admin: false },
  action: 'tunnel.connect',
  resource: 'tunnel:web',
  reason: 'closed',
  detail: { n },
});

/** A log on a fresh SQLite file whose store counts the records of each append. */
function open(options: Partial<ChainedAuditLogOptions> = {}): { log: ChainedAuditLog; appends: number[]; store: SqliteStore } {
  const store = new SqliteStore(join(dir, `relay-${files++}.db`));
  const appends: number[] = [];
  const inner = store.auditLog;
  const counting = Object.create(inner) as AuditLogStore;
  counting.append = (head, entries) => {
    appends.push(entries.length);
    return inner.append(head, entries);
  };
  const log = new ChainedAuditLog({ store: counting, keys: generateAuditKeyring(), clock, nodeId: 'n1', log: quiet, checkpointIntervalMs: 0, ...options });
  return { log, appends, store };
}

test('events of a burst are gathered into one append', async () => {
  const { log, appends, store } = open({ gatherMs: 500 });
  for (let i = 0; i < 5; i++) log.record(event(i));
  await sleep(20);
  log.record(event(5));
  assert.deepEqual(appends, [], 'nothing is appended while the writer gathers');
  for (let waited = 0; appends.length === 0 && waited < 10_000; waited += 20) await sleep(20);
  assert.deepEqual(appends, [6]);
  assert.equal((await store.auditLog.head()).size, 6);
  await log.close();
  await store.close();
});

test('a full batch, a flush and a fail-closed settle end the gathering at once', async () => {
  const { log, appends, store } = open({ gatherMs: 60_000, batchSize: 4 });
  const started = performance.now();
  await Promise.all([0, 1, 2, 3].map((i) => log.append(event(i))));
  assert.deepEqual(appends, [4], 'the fourth event filled the batch');
  log.record(event(4));
  await log.flush();
  assert.deepEqual(appends, [4, 1]);
  log.record(event(5));
  assert.equal(await log.settle(5_000), true);
  assert.deepEqual(appends, [4, 1, 1]);
  log.record(event(6));
  assert.equal(await log.size(), 7, 'a read writes what waits first');
  assert.ok(performance.now() - started < 30_000, 'no step waited for the 60 s gathering');
  log.record(event(7));
  await log.close();
  assert.equal((await store.auditLog.head()).size, 8, 'close writes what waits');
  await store.close();
});

test('gatherMs 0 appends the events of one tick together, and no later ones', async () => {
  const { log, appends, store } = open({ gatherMs: 0 });
  log.record(event(0));
  log.record(event(1));
  await sleep(20);
  log.record(event(2));
  await log.flush();
  assert.deepEqual(appends, [2, 1]);
  await log.close();
  await store.close();
});
