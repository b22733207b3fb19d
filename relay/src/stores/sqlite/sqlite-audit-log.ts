import type Database from 'better-sqlite3';
import { GENESIS_HASH, type Checkpoint } from '@tether/shared/audit';
import type { AuditFilter, AuditHead, AuditLogEntry, AuditLogStore } from '../../ports/audit-log.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  idx INTEGER PRIMARY KEY,
  line TEXT NOT NULL,
  leaf BLOB NOT NULL,
  hash TEXT NOT NULL,
  time TEXT NOT NULL,
  event TEXT NOT NULL,
  actor TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log(time);
CREATE INDEX IF NOT EXISTS audit_log_event ON audit_log(event, idx);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log(actor, idx);
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log(target, idx);
CREATE TABLE IF NOT EXISTS audit_cursors (
  name TEXT PRIMARY KEY,
  next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL
);
`;

/** The cursor that records how far the log was pruned (a name no sink can take: sinks are URLs). */
const PRUNED = '#pruned';

/**
 * The audit log in the relay's SQLite file. An append checks the head and inserts in one
 * IMMEDIATE transaction, so two processes on the same file cannot fork the chain.
 */
export class SqliteAuditLog implements AuditLogStore {
  private readonly stmts;
  private readonly appendAll;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.stmts = {
      last: db.prepare<[], { idx: number; hash: string }>('SELECT idx, hash FROM audit_log ORDER BY idx DESC LIMIT 1'),
      insert: db.prepare<[number, string, Buffer, string, string, string, string, string, string]>(
        'INSERT INTO audit_log (idx, line, leaf, hash, time, event, actor, target, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      read: db.prepare<[number, number], { line: string }>("SELECT line FROM audit_log WHERE idx >= ? AND idx < ? AND line != '' ORDER BY idx"),
      prune: db.prepare<[number]>("UPDATE audit_log SET line = '', event = '', actor = '', target = '', outcome = '' WHERE idx < ? AND line != ''"),
      leaves: db.prepare<[number, number], { leaf: Buffer }>('SELECT leaf FROM audit_log WHERE idx >= ? AND idx < ? ORDER BY idx'),
      addCheckpoint: db.prepare<[string]>('INSERT INTO audit_checkpoints (body) VALUES (?)'),
      getCursor: db.prepare<[string], { next: number }>('SELECT next FROM audit_cursors WHERE name = ?'),
      setCursor: db.prepare<[string, number]>('INSERT INTO audit_cursors (name, next) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET next = max(next, excluded.next)'),
      // Taken when free or lapsed, renewed by its holder; no row changes otherwise.
      claimLease: db.prepare<[string, string, number, number]>(
        'INSERT INTO audit_leases (name, holder, expires) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires WHERE audit_leases.holder = excluded.holder OR audit_leases.expires <= ?',
      ),
      releaseLease: db.prepare<[string, string]>('DELETE FROM audit_leases WHERE name = ? AND holder = ?'),
      checkpoints: db.prepare<[number], { body: string }>('SELECT body FROM (SELECT seq, body FROM audit_checkpoints ORDER BY seq DESC LIMIT ?) ORDER BY seq'),
    };
    this.appendAll = db.transaction((expected: AuditHead, entries: readonly AuditLogEntry[]): boolean => {
      const head = this.headNow();
      if (head.size !== expected.size || head.hash !== expected.hash) return false;
      for (const e of entries) this.stmts.insert.run(e.index, e.line, e.leaf, e.hash, e.time, e.event, e.actor, e.target, e.outcome);
      return true;
    });
  }

  private headNow(): AuditHead {
    const last = this.stmts.last.get();
    return last ? { size: last.idx + 1, hash: last.hash } : { size: 0, hash: GENESIS_HASH };
  }

  async head(): Promise<AuditHead> {
    return this.headNow();
  }

  async append(expected: AuditHead, entries: readonly AuditLogEntry[]): Promise<boolean> {
    return this.appendAll.immediate(expected, entries);
  }

  async read(from: number, to: number): Promise<string[]> {
    return this.stmts.read.all(from, to).map((r) => r.line);
  }

  async leaves(from: number, to: number): Promise<Buffer[]> {
    return this.stmts.leaves.all(from, to).map((r) => r.leaf);
  }

  async query(filter: AuditFilter, after: number, limit: number): Promise<string[]> {
    const where = ["idx > ?", "line != ''"];
    const params: (string | number)[] = [after];
    const add = (clause: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add('actor = ?', filter.actor);
    add('event = ?', filter.event);
    add('target = ?', filter.target);
    add('outcome = ?', filter.outcome);
    add('time >= ?', filter.from);
    add('time < ?', filter.to);
    params.push(limit);
    const rows = this.db.prepare(`SELECT line FROM audit_log WHERE ${where.join(' AND ')} ORDER BY idx LIMIT ?`).all(...params) as { line: string }[];
    return rows.map((r) => r.line);
  }

  async getCursor(name: string): Promise<number> {
    return this.stmts.getCursor.get(name)?.next ?? 0;
  }

  async setCursor(name: string, next: number): Promise<void> {
    this.stmts.setCursor.run(name, next);
  }

  async prune(before: number): Promise<void> {
    this.db.transaction(() => {
      this.stmts.prune.run(before);
      this.stmts.setCursor.run(PRUNED, before);
    }).immediate();
  }

  async prunedBefore(): Promise<number> {
    return this.stmts.getCursor.get(PRUNED)?.next ?? 0;
  }

  async claimLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return this.stmts.claimLease.run(name, holder, now + ttlMs, now).changes > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.stmts.releaseLease.run(name, holder);
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.stmts.addCheckpoint.run(JSON.stringify(checkpoint));
  }

  async checkpoints(limit = 1000): Promise<Checkpoint[]> {
    return this.stmts.checkpoints.all(limit).map((r) => JSON.parse(r.body) as Checkpoint);
  }
}
