import Database from 'better-sqlite3';
import { createError, ErrorCode } from '@tether/shared';
import type { Store, TunnelRecord, UserPatch, UserRecord, UserRole } from '../../ports/store.js';
import { SqliteTeamStore } from './sqlite-team-store.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';
import { SqliteUsageStore } from './sqlite-usage-store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE IF NOT EXISTS tunnels (
  name TEXT PRIMARY KEY,
  owner_id INTEGER NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  last_hosted_at TEXT
);
CREATE INDEX IF NOT EXISTS tunnels_owner ON tunnels(owner_id);
`;

/** Columns added after the first release: added to an older file when it is opened. */
const ADDED_COLUMNS: [table: string, column: string, definition: string][] = [
  ['users', 'role', "TEXT NOT NULL DEFAULT 'member'"],
  ['users', 'blocked_at', 'TEXT'],
  ['tunnels', 'disabled_at', 'TEXT'],
  ['tunnels', 'disabled_reason', 'TEXT'],
];

function addMissingColumns(db: Database.Database): void {
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

interface UserRow { id: number; name: string; created_at: string; role: string; blocked_at: string | null }
interface TunnelRow { name: string; owner_id: number; owner_name: string | null; created_at: string; last_hosted_at: string | null; disabled_at: string | null; disabled_reason: string | null }

const toUser = (r: UserRow): UserRecord => ({ id: r.id, name: r.name, createdAt: r.created_at, role: r.role === 'admin' ? 'admin' : 'member', blockedAt: r.blocked_at });
const toTunnel = (r: TunnelRow): TunnelRecord => ({
  name: r.name,
  ownerId: r.owner_id,
  ownerName: r.owner_id === 0 ? 'admin' : (r.owner_name ?? `#${r.owner_id}`),
  createdAt: r.created_at,
  lastHostedAt: r.last_hosted_at,
  disabledAt: r.disabled_at,
  disabledReason: r.disabled_reason,
});

const USER_COLUMNS = 'id, name, created_at, role, blocked_at';
const TUNNEL_SELECT = `SELECT t.name, t.owner_id, u.name AS owner_name, t.created_at, t.last_hosted_at, t.disabled_at, t.disabled_reason
  FROM tunnels t LEFT JOIN users u ON u.id = t.owner_id`;

/**
 * How long a statement waits for a lock another process holds (relays sharing one data folder).
 * better-sqlite3 is synchronous: the wait blocks this relay's event loop, every link and request
 * with it. Transactions here take microseconds to a few milliseconds, so a lock held longer means
 * the holder is stuck (a relay frozen mid-write, SIGSTOP or a stalled VM), and waiting 5 s per
 * write, as this once did, froze its siblings until their peers' pings gave up on them (3 s).
 * Past this wait the statement fails with SQLITE_BUSY, answered as STORE_UNAVAILABLE.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 250;

/** Opens the file with the users and tunnels tables; the team tables are SqliteTeamStore's. */
function openDatabase(file: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw createError(ErrorCode.INVALID_CONFIG, `cannot open database ${file}: ${(err as Error).message}`);
  }
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.exec(SCHEMA);
  addMissingColumns(db);
  return db;
}

/**
 * The embedded store: one SQLite file (or ':memory:'), WAL mode, prepared statements. better-sqlite3
 * is synchronous and fast (microseconds per lookup); the methods are async only to fit the port.
 * The team methods (grants, invites, requests, settings, secrets) come from SqliteTeamStore.
 */
export class SqliteStore extends SqliteTeamStore implements Store {
  private readonly stmts;
  readonly auditLog: SqliteAuditLog;
  readonly usage: SqliteUsageStore;

  constructor(file: string) {
    super(openDatabase(file));
    this.auditLog = new SqliteAuditLog(this.db);
    this.usage = new SqliteUsageStore(this.db);
    this.stmts = {
      insertUser: this.db.prepare<[string, string], UserRow>(`INSERT INTO users (name, token_hash) VALUES (?, ?) RETURNING ${USER_COLUMNS}`),
      userByHash: this.db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE token_hash = ?`),
      userByName: this.db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`),
      users: this.db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`),
      setRole: this.db.prepare<[UserRole, string]>('UPDATE users SET role = ? WHERE name = ?'),
      block: this.db.prepare<[string]>("UPDATE users SET blocked_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE name = ? AND blocked_at IS NULL"),
      unblock: this.db.prepare<[string]>('UPDATE users SET blocked_at = NULL WHERE name = ?'),
      disable: this.db.prepare<[string, string]>("UPDATE tunnels SET disabled_at = COALESCE(disabled_at, strftime('%Y-%m-%dT%H:%M:%fZ','now')), disabled_reason = ? WHERE name = ?"),
      enable: this.db.prepare<[string]>('UPDATE tunnels SET disabled_at = NULL, disabled_reason = NULL WHERE name = ?'),
      rotate: this.db.prepare<[string, string]>('UPDATE users SET token_hash = ? WHERE name = ?'),
      deleteUser: this.db.prepare<[string]>('DELETE FROM users WHERE name = ?'),
      deleteUserTunnels: this.db.prepare<[number]>('DELETE FROM tunnels WHERE owner_id = ?'),
      tunnel: this.db.prepare<[string], TunnelRow>(`${TUNNEL_SELECT} WHERE t.name = ?`),
      claim: this.db.prepare<[string, number]>('INSERT INTO tunnels (name, owner_id) VALUES (?, ?) ON CONFLICT(name) DO NOTHING'),
      hosted: this.db.prepare<[string]>("UPDATE tunnels SET last_hosted_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE name = ?"),
      tunnels: this.db.prepare<[], TunnelRow>(`${TUNNEL_SELECT} ORDER BY t.name`),
      tunnelsOf: this.db.prepare<[number], TunnelRow>(`${TUNNEL_SELECT} WHERE t.owner_id = ? ORDER BY t.name`),
      deleteTunnel: this.db.prepare<[string]>('DELETE FROM tunnels WHERE name = ?'),
      ping: this.db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
    };
  }

  async createUser(name: string, tokenHash: string): Promise<UserRecord> {
    if (this.stmts.userByName.get(name)) throw createError(ErrorCode.USER_EXISTS, `user ${name} already exists`);
    const row = this.stmts.insertUser.get(name, tokenHash);
    if (!row) throw createError(ErrorCode.INTERNAL, 'user insert returned nothing');
    return toUser(row);
  }

  async findUserByTokenHash(tokenHash: string): Promise<UserRecord | undefined> {
    const row = this.stmts.userByHash.get(tokenHash);
    return row && toUser(row);
  }

  async findUserByName(name: string): Promise<UserRecord | undefined> {
    const row = this.stmts.userByName.get(name);
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.stmts.users.all().map(toUser);
  }

  async rotateUserToken(name: string, tokenHash: string): Promise<boolean> {
    return this.stmts.rotate.run(tokenHash, name).changes > 0;
  }

  async deleteUser(name: string): Promise<boolean> {
    const user = this.stmts.userByName.get(name);
    if (!user) return false;
    this.db.transaction(() => {
      for (const tunnel of this.stmts.tunnelsOf.all(user.id)) this.purgeTunnelTeam(tunnel.name);
      this.purgeUserTeam(user.id);
      this.stmts.deleteUserTunnels.run(user.id);
      this.stmts.deleteUser.run(name);
    })();
    return true;
  }

  async updateUser(name: string, patch: UserPatch): Promise<UserRecord | undefined> {
    this.db.transaction(() => {
      if (patch.role !== undefined) this.stmts.setRole.run(patch.role, name);
      if (patch.blocked === true) this.stmts.block.run(name);
      if (patch.blocked === false) this.stmts.unblock.run(name);
    })();
    const row = this.stmts.userByName.get(name);
    return row && toUser(row);
  }

  async setTunnelDisabled(name: string, reason: string | null): Promise<TunnelRecord | undefined> {
    if (reason === null) this.stmts.enable.run(name);
    else this.stmts.disable.run(reason, name);
    const row = this.stmts.tunnel.get(name);
    return row && toTunnel(row);
  }

  async getTunnel(name: string): Promise<TunnelRecord | undefined> {
    const row = this.stmts.tunnel.get(name);
    return row && toTunnel(row);
  }

  async claimTunnel(name: string, ownerId: number): Promise<TunnelRecord> {
    this.stmts.claim.run(name, ownerId);
    const row = this.stmts.tunnel.get(name);
    const record = row && toTunnel(row);
    if (!record) throw createError(ErrorCode.INTERNAL, `tunnel ${name} vanished after claim`);
    return record;
  }

  async markTunnelHosted(name: string): Promise<void> {
    this.stmts.hosted.run(name);
  }

  async listTunnels(ownerId?: number): Promise<TunnelRecord[]> {
    return (ownerId === undefined ? this.stmts.tunnels.all() : this.stmts.tunnelsOf.all(ownerId)).map(toTunnel);
  }

  async deleteTunnel(name: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.purgeTunnelTeam(name);
      return this.stmts.deleteTunnel.run(name).changes > 0;
    })();
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
