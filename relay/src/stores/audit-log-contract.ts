import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { exportLines, parsePublicKeys, verifyLog, type AuditRecord } from '@tether/shared/audit';
import { generateAuditKeyring, publicKeysPem, rotateAuditKeyring } from '../audit/audit-keys.js';
import { Auditor } from '../audit/auditor.js';
import { ChainedAuditLog } from '../audit/chained-log.js';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Store } from '../ports/store.js';
import type { StoreTwin } from './team-store-contract.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const clock = { now: () => Date.now(), monotonic: () => performance.now() };
const alice = { id: 7, name: 'alice', admin: false };

/**
 * The signed audit log on every store (SQLite, Redis, Redis Cluster): what the relay writes
 * verifies offline, two nodes on one database write one chain, and reads open the details.
 */
export function auditLogContract(name: string, withStore: (title: string, body: (store: Store) => Promise<void>) => void, twin: StoreTwin): void {
  describe(`Audit log contract: ${name}`, () => {
    withStore('events become a chain that verifies with the public key and a signed checkpoint', async (store) => {
      const keys = generateAuditKeyring();
      const log = new ChainedAuditLog({ store: store.auditLog, keys, clock, nodeId: 'n1', log: quiet, checkpointIntervalMs: 0 });
      const auditor = new Auditor(log, clock, keys.salt);
      // Codes a flood summary leaves alone (access decisions past 10 a second are counted instead).
      for (let i = 0; i < 600; i++) auditor.record(i % 2 ? AuditEventCode.STREAM_CLOSED : AuditEventCode.INVITE_REFUSED, i % 2 ? alice : null, 'tunnel.connect', `tunnel:t${i % 3}`, { rule: 'owner', detail: { n: i } });
      const checkpoint = await log.checkpoint();
      assert.equal(checkpoint.size, 600);
      const lines: string[] = [];
      for await (const line of log.lines(0, 600)) lines.push(line);
      const verdict = verifyLog(exportLines(`${lines.join('\n')}\n`), { keys: parsePublicKeys(publicKeysPem(keys)), checkpoints: await log.checkpoints() });
      assert.equal(verdict.ok, true, verdict.problem?.message);
      assert.equal(verdict.root, checkpoint.root);
      const first = JSON.parse(lines[1]) as AuditRecord;
      assert.deepEqual([first.event, first.actor, first.target, first.outcome, first.node], ['stream.closed', 'user:alice', 'tunnel:t1', 'success', 'n1']);
      assert.doesNotMatch(lines[1], /owner/, 'details are sealed');
      assert.deepEqual(log.view(lines[1]).details, { action: 'tunnel.connect', subject: { id: 7, admin: false }, rule: 'owner', detail: { n: 1 } });
      assert.equal(log.view(lines[0]).outcome, 'failure');
      await log.close();
    });

    withStore('queries filter on actor, event, target, outcome and time, and page after an index', async (store) => {
      const keys = generateAuditKeyring();
      let now = Date.parse('2026-12-01T10:00:00.000Z');
      const stepping = { now: () => (now += 1000), monotonic: () => now };
      const log = new ChainedAuditLog({ store: store.auditLog, keys, clock: stepping, nodeId: 'n1', log: quiet, checkpointIntervalMs: 0 });
      const auditor = new Auditor(log, stepping, keys.salt);
      for (let i = 0; i < 30; i++) auditor.record(i % 3 ? AuditEventCode.ACCESS_GRANTED : AuditEventCode.ACCESS_DENIED, i % 2 ? alice : null, 'tunnel.connect', `tunnel:t${i % 2}`);
      const indexes = async (filter: Parameters<ChainedAuditLog['query']>[0], after = -1, limit = 100) => (await log.query(filter, after, limit)).map((e) => e.index);
      assert.deepEqual(await indexes({ actor: 'user:alice', target: 'tunnel:t1' }), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29]);
      assert.deepEqual(await indexes({ event: 'access.denied', outcome: 'failure' }), [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
      assert.deepEqual(await indexes({ outcome: 'failure' }, 10, 3), [12, 15, 18]);
      assert.deepEqual(await indexes({ from: '2026-12-01T10:00:05.000Z', to: '2026-12-01T10:00:08.000Z' }), [4, 5, 6]);
      assert.deepEqual(await indexes({ actor: 'nobody' }), []);
      await log.close();
    });

    withStore('prune drops the content of old records but keeps their leaves, so the tree and the next appends go on', async (store) => {
      const keys = generateAuditKeyring();
      const log = new ChainedAuditLog({ store: store.auditLog, keys, clock, nodeId: 'n1', log: quiet, checkpointIntervalMs: 0 });
      for (let i = 0; i < 30; i++) await log.append({ code: AuditEventCode.USER_CREATED, at: new Date(Date.parse('2026-01-01T00:00:00Z') + i * 60_000).toISOString(), subject: null, action: 'users.manage', resource: `user:u${i}` });
      const whole = await log.checkpoint();
      const result = await log.prune('2026-01-01T00:10:00.000Z', null);
      assert.deepEqual([result?.from, result?.to, result?.archive], [0, 10, undefined]);
      assert.equal(await store.auditLog.prunedBefore(), 10);
      assert.deepEqual((await store.auditLog.read(0, 12)).map((l) => (JSON.parse(l) as AuditRecord).index), [10, 11]);
      assert.equal((await store.auditLog.leaves(0, 30)).length, 30, 'leaf hashes stay');
      assert.deepEqual((await log.query({ event: 'user.created' }, -1, 3)).map((e) => e.index), [10, 11, 12]);
      const after = await log.checkpoint();
      assert.equal(after.size, 31, 'the audit.pruned record was appended to the same chain');
      const lines: string[] = [];
      for await (const line of log.lines(0, after.size)) lines.push(line);
      const verdict = verifyLog(lines, { keys: parsePublicKeys(publicKeysPem(keys)), checkpoints: await log.checkpoints() });
      assert.equal(verdict.ok, true, verdict.problem?.message);
      assert.equal(verdict.first, 10);
      assert.deepEqual(await log.inclusion(3, whole.size).then((p) => p.root), whole.root, 'proofs still reach pruned leaves');
      assert.equal(await log.prune('2026-01-01T00:05:00.000Z', null), undefined, 'nothing older left');
      await log.close();
    });

    withStore('a lease: one holder at a time, renewed by it, taken over once lapsed or released', async (store) => {
      const other = await twin(store);
      assert.equal(await store.auditLog.claimLease('syslog', 'n1', 300), true);
      assert.equal(await other.auditLog.claimLease('syslog', 'n2', 300), false);
      assert.equal(await store.auditLog.claimLease('syslog', 'n1', 300), true, 'renewed by its holder');
      assert.equal(await other.auditLog.claimLease('hec', 'n2', 300), true, 'leases are per name');
      await other.auditLog.releaseLease('syslog', 'n2');
      assert.equal(await other.auditLog.claimLease('syslog', 'n2', 300), false, 'only the holder releases');
      await new Promise((resolve) => setTimeout(resolve, 350));
      assert.equal(await other.auditLog.claimLease('syslog', 'n2', 60_000), true, 'lapsed: taken over');
      assert.equal(await store.auditLog.claimLease('syslog', 'n1', 300), false);
      await other.auditLog.releaseLease('syslog', 'n2');
      assert.equal(await store.auditLog.claimLease('syslog', 'n1', 300), true, 'released: free at once');
      await other.close();
    });

    withStore('a reader cursor starts at 0, moves forward only, and is seen by every node', async (store) => {
      const other = await twin(store);
      assert.equal(await store.auditLog.getCursor('syslog'), 0);
      await store.auditLog.setCursor('syslog', 41);
      await other.auditLog.setCursor('syslog', 12);
      assert.equal(await other.auditLog.getCursor('syslog'), 41);
      await Promise.all([store.auditLog.setCursor('hec', 5), other.auditLog.setCursor('hec', 9), store.auditLog.setCursor('hec', 7)]);
      assert.equal(await store.auditLog.getCursor('hec'), 9);
      assert.equal(await store.auditLog.getCursor('syslog'), 41);
      await other.close();
    });

    withStore('two nodes writing at once make one chain, and a rotated key still opens old records', async (store) => {
      const keys = generateAuditKeyring();
      const other = await twin(store);
      const a = new ChainedAuditLog({ store: store.auditLog, keys, clock, nodeId: 'a', log: quiet, checkpointIntervalMs: 0 });
      const rotated = rotateAuditKeyring(keys);
      const b = new ChainedAuditLog({ store: other.auditLog, keys: rotated, clock, nodeId: 'b', log: quiet, checkpointIntervalMs: 0 });
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 200; i++) {
        writes.push(a.append({ code: AuditEventCode.USER_CREATED, at: new Date().toISOString(), subject: null, action: 'users.manage', resource: `user:a${i}` }));
        writes.push(b.append({ code: AuditEventCode.USER_CREATED, at: new Date().toISOString(), subject: null, action: 'users.manage', resource: `user:b${i}` }));
      }
      await Promise.all(writes);
      const checkpoint = await b.checkpoint();
      assert.equal(checkpoint.size, 400);
      const lines: string[] = [];
      for await (const line of b.lines(0, 400)) lines.push(line);
      const verdict = verifyLog(lines, { keys: parsePublicKeys(publicKeysPem(rotated)), checkpoints: [checkpoint] });
      assert.equal(verdict.ok, true, verdict.problem?.message);
      const nodes = new Set(lines.map((l) => (JSON.parse(l) as AuditRecord).node));
      assert.deepEqual([...nodes].sort(), ['a', 'b']);
      // b holds both details keys; a only the old one, so it cannot open what b sealed.
      assert.ok(lines.every((l) => b.view(l).details !== null));
      assert.ok(lines.some((l) => a.view(l).details === null));
      await a.close();
      await b.close();
      await other.close();
    });
  });
}
