import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Store } from '../../ports/store.js';
import { DEFAULT_TUNNEL_SETTINGS } from '../../ports/team-store.js';
import { SqliteStore } from './sqlite-store.js';
import { storeContract } from '../store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const fileOf = new WeakMap<Store, string>();

// A file per store (not ':memory:'), so the contract's twin can open the same database again.
storeContract(
  'SQLite (file)',
  async () => {
    const file = join(dir, `${files++}.db`);
    const store = new SqliteStore(file);
    fileOf.set(store, file);
    return store;
  },
  async (store) => new SqliteStore(fileOf.get(store) ?? ':memory:'),
);

test('a tether.db made before teams opens: its users and tunnels stay, the team tables and settings columns are added', async (t) => {
  const file = join(dir, 'old.db');
  const old = new Database(file);
  old.exec(`
    CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
    CREATE TABLE tunnels (name TEXT PRIMARY KEY, owner_id INTEGER NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), last_hosted_at TEXT);
    CREATE INDEX tunnels_owner ON tunnels(owner_id);
    INSERT INTO users (name, token_hash) VALUES ('alice', '${'a'.repeat(64)}'), ('carol', '${'c'.repeat(64)}');
    INSERT INTO tunnels (name, owner_id) VALUES ('web', 1);
  `);
  old.close();
  const store = new SqliteStore(file);
  t.after(() => store.close());
  assert.equal((await store.findUserByTokenHash('a'.repeat(64)))?.name, 'alice');
  assert.equal((await store.getTunnel('web'))?.ownerName, 'alice');
  assert.deepEqual(await store.getTunnelSettings('web'), DEFAULT_TUNNEL_SETTINGS);
  assert.equal((await store.putGrant({ tunnel: 'web', userId: 2, role: 'view', expiresAt: null, blocked: false, source: 'direct', grantedBy: 1 })).userName, 'carol');
  await store.close();
  // Opening it again (the columns now exist) changes nothing.
  const again = new SqliteStore(file);
  t.after(() => again.close());
  assert.equal((await again.getGrant('web', 2))?.role, 'view');
});
