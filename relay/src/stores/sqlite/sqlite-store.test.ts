import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Store } from '../../ports/store.js';
import { DEFAULT_TUNNEL_SETTINGS } from '../../ports/team-store.js';
import { emptyCounters } from '../../ports/usage-store.js';
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

test('usage roll-ups made before streams were counted by protocol open with empty counts and take new ones', async (t) => {
  const file = join(dir, 'old-usage.db');
  const old = new Database(file);
  old.exec(`
    CREATE TABLE usage_rollups (step TEXT NOT NULL, bucket INTEGER NOT NULL, tunnel TEXT NOT NULL, user TEXT NOT NULL, node TEXT NOT NULL,
      bytes_up INTEGER NOT NULL DEFAULT 0, bytes_down INTEGER NOT NULL DEFAULT 0, opened INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
      duration_ms INTEGER NOT NULL DEFAULT 0, peak INTEGER NOT NULL DEFAULT 0, failed TEXT NOT NULL DEFAULT '{}',
      PRIMARY KEY (step, bucket, tunnel, user, node)) WITHOUT ROWID;
    INSERT INTO usage_rollups (step, bucket, tunnel, user, node, closed) VALUES ('minute', 0, 'web', 'alice', 'n1', 2);
  `);
  old.close();
  const store = new SqliteStore(file);
  t.after(() => store.close());
  assert.deepEqual((await store.usage.query({ step: 'minute', from: 0, to: 60_000 })).map((r) => [r.closed, r.protocols]), [[2, {}]]);
  await store.usage.add([{ ...emptyCounters(), minute: 0, tunnel: 'web', user: 'alice', node: 'n1', closed: 1, protocols: { ssh: 1 } }]);
  assert.deepEqual((await store.usage.query({ step: 'minute', from: 0, to: 60_000 })).map((r) => [r.closed, r.protocols]), [[3, { ssh: 1 }]]);
});
