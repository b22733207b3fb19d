import type Database from 'better-sqlite3';
import type { AccessRequestRecord, AccessReview, GrantRecord, InviteRecord, TunnelRole, TunnelSettings } from '../../ports/team-store.js';
import { displayName } from '../team-common.js';

/**
 * The team tables. Each is created if missing, so a tether.db made before teams existed gains
 * them on the next start; the tunnel settings are columns of `tunnels` (they live and die with the
 * name), added by `migrate` below. `seq` columns order records made in the same millisecond.
 */
const TEAM_SCHEMA = `
CREATE TABLE IF NOT EXISTS grants (
  tunnel TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  role TEXT NOT NULL,
  expires_at TEXT,
  blocked INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  granted_by INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (tunnel, user_id)
);
CREATE INDEX IF NOT EXISTS grants_user ON grants(user_id);
CREATE TABLE IF NOT EXISTS invites (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tunnel TEXT NOT NULL,
  role TEXT NOT NULL,
  created_by INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  max_uses INTEGER NOT NULL,
  uses INTEGER NOT NULL DEFAULT 0,
  user_id INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS invites_tunnel ON invites(tunnel);
CREATE TABLE IF NOT EXISTS access_requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tunnel TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  role TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  reviews TEXT NOT NULL DEFAULT '[]',
  granted_until TEXT
);
CREATE INDEX IF NOT EXISTS access_requests_tunnel ON access_requests(tunnel);
CREATE INDEX IF NOT EXISTS access_requests_user ON access_requests(user_id);
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** Columns added to `tunnels` for its sharing settings; their defaults are DEFAULT_TUNNEL_SETTINGS. */
const SETTINGS_COLUMNS: [string, string][] = [
  ['approval', "TEXT NOT NULL DEFAULT 'none'"],
  ['approvals', 'INTEGER NOT NULL DEFAULT 1'],
  ['max_duration_ms', 'INTEGER'],
];

export interface GrantRow { tunnel: string; user_id: number; user_name: string | null; role: TunnelRole; expires_at: string | null; blocked: number; source: GrantRecord['source']; granted_by: number; created_at: string }
export interface InviteRow { seq: number; id: string; tunnel: string; role: TunnelRole; created_by: number; created_at: string; expires_at: string; max_uses: number; uses: number; user_id: number | null; revoked: number }
export interface RequestRow { seq: number; id: string; tunnel: string; user_id: number; user_name: string | null; role: TunnelRole; duration_ms: number; reason: string; created_at: string; status: AccessRequestRecord['status']; reviews: string; granted_until: string | null }
export interface SettingsRow { approval: TunnelSettings['approval']; approvals: number; max_duration_ms: number | null }

export const toGrant = (r: GrantRow): GrantRecord => ({
  tunnel: r.tunnel,
  userId: r.user_id,
  userName: displayName(r.user_id, r.user_name),
  role: r.role,
  expiresAt: r.expires_at,
  blocked: r.blocked === 1,
  source: r.source,
  grantedBy: r.granted_by,
  createdAt: r.created_at,
});
export const toInvite = (r: InviteRow): InviteRecord => ({
  id: r.id,
  tunnel: r.tunnel,
  role: r.role,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  maxUses: r.max_uses,
  uses: r.uses,
  userId: r.user_id,
  revoked: r.revoked === 1,
});
export const toRequest = (r: RequestRow): AccessRequestRecord & { seq: number } => ({
  seq: r.seq,
  id: r.id,
  tunnel: r.tunnel,
  userId: r.user_id,
  userName: displayName(r.user_id, r.user_name),
  role: r.role,
  durationMs: r.duration_ms,
  reason: r.reason,
  createdAt: r.created_at,
  status: r.status,
  reviews: JSON.parse(r.reviews) as AccessReview[],
  grantedUntil: r.granted_until,
});
/** Drops the internal `seq` so records equal what the port promises (deepEqual in tests, JSON in routes). */
export const withoutSeq = <T extends { seq: number }>({ seq: _seq, ...rest }: T): Omit<T, 'seq'> => rest;

export const GRANT_SELECT = 'SELECT g.*, u.name AS user_name FROM grants g LEFT JOIN users u ON u.id = g.user_id';
export const REQUEST_SELECT = 'SELECT r.*, u.name AS user_name FROM access_requests r LEFT JOIN users u ON u.id = r.user_id';

/** Adds the settings columns an older `tunnels` table lacks (SQLite has no ADD COLUMN IF NOT EXISTS). */
export function migrate(db: Database.Database): void {
  db.exec(TEAM_SCHEMA);
  const have = new Set((db.pragma('table_info(tunnels)') as { name: string }[]).map((c) => c.name));
  for (const [column, definition] of SETTINGS_COLUMNS) {
    if (!have.has(column)) db.exec(`ALTER TABLE tunnels ADD COLUMN ${column} ${definition}`);
  }
}
