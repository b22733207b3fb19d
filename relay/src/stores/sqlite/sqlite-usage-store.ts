import type Database from 'better-sqlite3';
import { addCounts, bucketOf, USAGE_STEPS, type UsageDelta, type UsageQuery, type UsageRetention, type UsageRow, type UsageStep, type UsageStore } from '../../ports/usage-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_rollups (
  step TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  tunnel TEXT NOT NULL,
  user TEXT NOT NULL,
  node TEXT NOT NULL,
  bytes_up INTEGER NOT NULL DEFAULT 0,
  bytes_down INTEGER NOT NULL DEFAULT 0,
  opened INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  peak INTEGER NOT NULL DEFAULT 0,
  failed TEXT NOT NULL DEFAULT '{}',
  protocols TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (step, bucket, tunnel, user, node)
) WITHOUT ROWID;
`;

interface Row {
  step: UsageStep;
  bucket: number;
  tunnel: string;
  user: string;
  node: string;
  bytes_up: number;
  bytes_down: number;
  opened: number;
  closed: number;
  duration_ms: number;
  peak: number;
  failed: string;
  protocols: string;
}

const toRow = (r: Row): UsageRow => ({
  step: r.step,
  bucket: r.bucket,
  tunnel: r.tunnel,
  user: r.user,
  node: r.node,
  bytesUp: r.bytes_up,
  bytesDown: r.bytes_down,
  opened: r.opened,
  closed: r.closed,
  durationMs: r.duration_ms,
  peak: r.peak,
  failed: JSON.parse(r.failed) as Record<string, number>,
  protocols: JSON.parse(r.protocols) as Record<string, number>,
});

/**
 * Usage roll-ups in the relay's SQLite file: one table, one row per (step, bucket, tunnel, user,
 * node), upserted in one transaction per batch (counters added, peak the larger, failed opens
 * merged per code, ended streams per protocol).
 */
export class SqliteUsageStore implements UsageStore {
  private readonly upsert;
  private readonly select;
  private readonly selectFailed;
  private readonly prune1;
  private readonly addAll;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    // Files made before streams were counted by protocol gain the column (empty counts).
    const columns = db.prepare<[], { name: string }>('PRAGMA table_info(usage_rollups)').all();
    if (!columns.some((c) => c.name === 'protocols')) db.exec("ALTER TABLE usage_rollups ADD COLUMN protocols TEXT NOT NULL DEFAULT '{}'");
    this.select = db.prepare<[string, number, number], Row>('SELECT * FROM usage_rollups WHERE step = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, tunnel, user, node');
    this.selectFailed = db.prepare<[string, number, string, string, string], { failed: string; protocols: string }>('SELECT failed, protocols FROM usage_rollups WHERE step = ? AND bucket = ? AND tunnel = ? AND user = ? AND node = ?');
    this.upsert = db.prepare<[string, number, string, string, string, number, number, number, number, number, number, string, string]>(
      `INSERT INTO usage_rollups (step, bucket, tunnel, user, node, bytes_up, bytes_down, opened, closed, duration_ms, peak, failed, protocols)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (step, bucket, tunnel, user, node) DO UPDATE SET
         bytes_up = bytes_up + excluded.bytes_up, bytes_down = bytes_down + excluded.bytes_down,
         opened = opened + excluded.opened, closed = closed + excluded.closed,
         duration_ms = duration_ms + excluded.duration_ms, peak = max(peak, excluded.peak), failed = excluded.failed,
         protocols = excluded.protocols`,
    );
    this.prune1 = db.prepare<[string, number]>('DELETE FROM usage_rollups WHERE step = ? AND bucket < ?');
    this.addAll = db.transaction((deltas: readonly UsageDelta[]) => {
      for (const d of deltas) {
        for (const step of USAGE_STEPS) {
          const bucket = bucketOf(step, d.minute);
          // Failed opens per code and streams per protocol are small JSON objects, merged here inside the transaction.
          const before = this.selectFailed.get(step, bucket, d.tunnel, d.user, d.node);
          const failed = before ? (JSON.parse(before.failed) as Record<string, number>) : {};
          const protocols = before ? (JSON.parse(before.protocols) as Record<string, number>) : {};
          addCounts(failed, d.failed);
          addCounts(protocols, d.protocols);
          this.upsert.run(step, bucket, d.tunnel, d.user, d.node, d.bytesUp, d.bytesDown, d.opened, d.closed, d.durationMs, d.peak, JSON.stringify(failed), JSON.stringify(protocols));
        }
      }
    });
  }

  async add(deltas: readonly UsageDelta[]): Promise<void> {
    if (deltas.length > 0) this.addAll(deltas);
  }

  async query(query: UsageQuery): Promise<UsageRow[]> {
    const rows = this.select.all(query.step, query.from, query.to).map(toRow);
    if (!query.tunnels) return rows;
    const only = new Set(query.tunnels);
    return rows.filter((r) => only.has(r.tunnel));
  }

  async prune(now: number, retention: UsageRetention): Promise<void> {
    for (const step of USAGE_STEPS) this.prune1.run(step, now - retention[step]);
  }
}
