import { createError, ErrorCode } from '@tether/shared';
import type { Store, TunnelRecord, UserPatch, UserRecord, UserRole } from '../../ports/store.js';
import type { RedisClient } from './redis-client.js';
import { callRedis } from './redis-errors.js';
import { RedisTeamStore } from './redis-team-store.js';
import * as lua from './scripts.js';
import { RedisAuditLog } from './redis-audit-log.js';
import { RedisUsageStore } from './redis-usage-store.js';

interface StoredUser { id: number; name: string; tokenHash: string; createdAt: string; role?: UserRole; blockedAt?: string | null }
interface StoredTunnel { name: string; ownerId: number; createdAt: string; lastHostedAt: string | null; disabledAt?: string | null; disabledReason?: string | null }

/** The Lua scripts, once defined on the client (ioredis loads them with EVALSHA, EVAL on NOSCRIPT). */
interface Scripts {
  tetherCreateUser(users: string, userIds: string, tokens: string, nextId: string, name: string, tokenHash: string, createdAt: string): Promise<[string, string?]>;
  tetherUserByToken(tokens: string, users: string, tokenHash: string): Promise<string | null>;
  tetherRotateToken(users: string, tokens: string, name: string, tokenHash: string): Promise<number>;
  tetherDeleteUser(users: string, userIds: string, tokens: string, tunnels: string, owned: string, name: string, id: string, base: string): Promise<number>;
  tetherClaimTunnel(tunnels: string, owned: string, name: string, ownerId: string, createdAt: string): Promise<string>;
  tetherMarkHosted(tunnels: string, name: string, hostedAt: string): Promise<number>;
  tetherDeleteTunnel(tunnels: string, owned: string, name: string, ownerId: string, base: string): Promise<number>;
  tetherPatchRecord(hash: string, field: string, set: string, setIfNull: string): Promise<string | null>;
}

const SCRIPTS: [keyof Scripts, string, number][] = [
  ['tetherCreateUser', lua.CREATE_USER, 4],
  ['tetherUserByToken', lua.USER_BY_TOKEN, 2],
  ['tetherRotateToken', lua.ROTATE_TOKEN, 2],
  ['tetherDeleteUser', lua.DELETE_USER, 5],
  ['tetherClaimTunnel', lua.CLAIM_TUNNEL, 2],
  ['tetherMarkHosted', lua.MARK_HOSTED, 1],
  ['tetherDeleteTunnel', lua.DELETE_TUNNEL, 2],
  ['tetherPatchRecord', lua.PATCH_RECORD, 1],
];

/** Read-then-script operations retry this often when the record changed in between. */
const MAX_ATTEMPTS = 5;

const toUser = (u: StoredUser): UserRecord => ({ id: u.id, name: u.name, createdAt: u.createdAt, role: u.role === 'admin' ? 'admin' : 'member', blockedAt: u.blockedAt ?? null });
const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The cluster store: the relay's directory in Redis (standalone or Redis Cluster), shared by
 * every relay node. Changes that must be all-or-nothing are Lua scripts over keys of one hash
 * slot (keys.ts, scripts.ts). A Redis that is down or silent fails each call within about a
 * second with STORE_UNAVAILABLE (see redis-client.ts); the client reconnects on its own.
 * The store owns the client: `close()` quits it. The team methods come from RedisTeamStore;
 * `prefix` (default `tether`) is the key prefix, which other ports sharing this client (the
 * tunnel registry) key under too.
 */
export class RedisStore extends RedisTeamStore implements Store {
  private readonly scripts: Scripts;
  readonly auditLog: RedisAuditLog;
  readonly usage: RedisUsageStore;

  constructor(client: RedisClient, options: { prefix?: string } = {}) {
    super(client, options.prefix ?? 'tether');
    for (const [name, script, numberOfKeys] of SCRIPTS) client.defineCommand(name, { lua: script, numberOfKeys });
    this.scripts = client as unknown as Scripts;
    this.auditLog = new RedisAuditLog(client, options.prefix ?? 'tether');
    this.usage = new RedisUsageStore(client, options.prefix ?? 'tether');
  }

  createUser(name: string, tokenHash: string): Promise<UserRecord> {
    return callRedis(async () => {
      const k = this.keys;
      const [status, raw] = await this.scripts.tetherCreateUser(k.users, k.userIds, k.tokens, k.nextUserId, name, tokenHash, now());
      if (status === 'exists') throw createError(ErrorCode.USER_EXISTS, `user ${name} already exists`);
      if (status === 'token-taken' || raw === undefined) throw createError(ErrorCode.INTERNAL, 'the token hash is already in use');
      return toUser(JSON.parse(raw) as StoredUser);
    });
  }

  findUserByTokenHash(tokenHash: string): Promise<UserRecord | undefined> {
    return callRedis(async () => {
      const raw = await this.scripts.tetherUserByToken(this.keys.tokens, this.keys.users, tokenHash);
      return raw === null ? undefined : toUser(JSON.parse(raw) as StoredUser);
    });
  }

  findUserByName(name: string): Promise<UserRecord | undefined> {
    return callRedis(async () => {
      const user = await this.storedUser(name);
      return user && toUser(user);
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return callRedis(async () => {
      const raws = await this.client.hvals(this.keys.users);
      return raws.map((raw) => toUser(JSON.parse(raw) as StoredUser)).sort(byName);
    });
  }

  rotateUserToken(name: string, tokenHash: string): Promise<boolean> {
    return callRedis(async () => (await this.scripts.tetherRotateToken(this.keys.users, this.keys.tokens, name, tokenHash)) === 1);
  }

  deleteUser(name: string): Promise<boolean> {
    return callRedis(async () => {
      const k = this.keys;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const user = await this.storedUser(name);
        if (!user) return false;
        const result = await this.scripts.tetherDeleteUser(k.users, k.userIds, k.tokens, k.tunnels, k.owned(user.id), name, String(user.id), k.base);
        if (result >= 0) return result === 1;
      }
      throw createError(ErrorCode.INTERNAL, `user ${name} kept changing while being deleted`);
    });
  }

  updateUser(name: string, patch: UserPatch): Promise<UserRecord | undefined> {
    return callRedis(async () => {
      const set: Partial<StoredUser> = {};
      const setIfNull: Partial<StoredUser> = {};
      if (patch.role !== undefined) set.role = patch.role;
      if (patch.blocked === true) setIfNull.blockedAt = now();
      if (patch.blocked === false) set.blockedAt = null;
      const raw = await this.scripts.tetherPatchRecord(this.keys.users, name, JSON.stringify(set), JSON.stringify(setIfNull));
      return raw === null ? undefined : toUser(JSON.parse(raw) as StoredUser);
    });
  }

  setTunnelDisabled(name: string, reason: string | null): Promise<TunnelRecord | undefined> {
    return callRedis(async () => {
      const set = reason === null ? { disabledAt: null, disabledReason: null } : { disabledReason: reason };
      const setIfNull = reason === null ? {} : { disabledAt: now() };
      const raw = await this.scripts.tetherPatchRecord(this.keys.tunnels, name, JSON.stringify(set), JSON.stringify(setIfNull));
      if (raw === null) return undefined;
      const [record] = await this.withOwners([JSON.parse(raw) as StoredTunnel]);
      return record;
    });
  }

  getTunnel(name: string): Promise<TunnelRecord | undefined> {
    return callRedis(async () => {
      const raw = await this.client.hget(this.keys.tunnels, name);
      if (raw === null) return undefined;
      const [record] = await this.withOwners([JSON.parse(raw) as StoredTunnel]);
      return record;
    });
  }

  claimTunnel(name: string, ownerId: number): Promise<TunnelRecord> {
    return callRedis(async () => {
      const raw = await this.scripts.tetherClaimTunnel(this.keys.tunnels, this.keys.owned(ownerId), name, String(ownerId), now());
      const [record] = await this.withOwners([JSON.parse(raw) as StoredTunnel]);
      return record;
    });
  }

  markTunnelHosted(name: string): Promise<void> {
    return callRedis(async () => {
      await this.scripts.tetherMarkHosted(this.keys.tunnels, name, now());
    });
  }

  listTunnels(ownerId?: number): Promise<TunnelRecord[]> {
    return callRedis(async () => {
      let raws: (string | null)[];
      if (ownerId === undefined) {
        raws = await this.client.hvals(this.keys.tunnels);
      } else {
        const names = await this.client.smembers(this.keys.owned(ownerId));
        raws = names.length === 0 ? [] : await this.client.hmget(this.keys.tunnels, ...names);
      }
      const tunnels = raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as StoredTunnel);
      return (await this.withOwners(tunnels)).sort(byName);
    });
  }

  deleteTunnel(name: string): Promise<boolean> {
    return callRedis(async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const raw = await this.client.hget(this.keys.tunnels, name);
        if (raw === null) return false;
        const { ownerId } = JSON.parse(raw) as StoredTunnel;
        const result = await this.scripts.tetherDeleteTunnel(this.keys.tunnels, this.keys.owned(ownerId), name, String(ownerId), this.keys.base);
        if (result >= 0) return result === 1;
      }
      throw createError(ErrorCode.INTERNAL, `tunnel ${name} kept changing while being deleted`);
    });
  }

  ping(): Promise<void> {
    return callRedis(async () => {
      // A cluster's PING goes to one node: readiness asks the node serving the directory's slot.
      await this.client.exists(this.keys.nextUserId);
    });
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      // Redis already gone: nothing left to close politely.
      this.client.disconnect();
    }
  }

  private async storedUser(name: string): Promise<StoredUser | undefined> {
    const raw = await this.client.hget(this.keys.users, name);
    return raw === null ? undefined : (JSON.parse(raw) as StoredUser);
  }

  /** Adds owner names (one HMGET for all owners), as SQLite's join does: 0 is the admin. */
  private async withOwners(tunnels: StoredTunnel[]): Promise<TunnelRecord[]> {
    const ids = [...new Set(tunnels.map((t) => t.ownerId).filter((id) => id !== 0))];
    const names = ids.length === 0 ? [] : await this.client.hmget(this.keys.userIds, ...ids.map(String));
    const nameOf = new Map(ids.map((id, i) => [id, names[i]]));
    return tunnels.map((t) => ({
      name: t.name,
      ownerId: t.ownerId,
      ownerName: t.ownerId === 0 ? 'admin' : (nameOf.get(t.ownerId) ?? `#${t.ownerId}`),
      createdAt: t.createdAt,
      lastHostedAt: t.lastHostedAt ?? null,
      disabledAt: t.disabledAt ?? null,
      disabledReason: t.disabledReason ?? null,
    }));
  }
}

const now = (): string => new Date().toISOString();
