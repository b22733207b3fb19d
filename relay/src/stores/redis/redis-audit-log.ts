import { GENESIS_HASH, type Checkpoint } from '@tether/shared/audit';
import type { AuditFilter, AuditHead, AuditLogEntry, AuditLogStore } from '../../ports/audit-log.js';
import type { RedisClient } from './redis-client.js';
import { callRedis } from './redis-errors.js';

/**
 * Compare-and-append: KEYS head, lines, leaves; ARGV expected head ("size hash"), new head, then
 * line and leaf (hex) of each record in order. Writes nothing unless the head is as expected, so
 * every node of a cluster appends to the one chain without forking it.
 */
const APPEND = `
local head = redis.call('GET', KEYS[1]) or ('0 ' .. '${GENESIS_HASH}')
if head ~= ARGV[1] then return 0 end
local lines, leaves = {}, {}
for i = 3, #ARGV, 2 do
  lines[#lines + 1] = ARGV[i]
  leaves[#leaves + 1] = ARGV[i + 1]
end
if #lines > 0 then
  redis.call('RPUSH', KEYS[2], unpack(lines))
  redis.call('RPUSH', KEYS[3], unpack(leaves))
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** KEYS cursors hash; ARGV name, next: the cursor moves forward only. */
const SET_CURSOR = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
`;

/** KEYS lines, cursors; ARGV from, to (exclusive): empties the lines in [from, to) and moves the prune mark. */
const PRUNE = `
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do redis.call('LSET', KEYS[1], i, '') end
local current = tonumber(redis.call('HGET', KEYS[2], '#pruned') or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[2], '#pruned', ARGV[2]) end
return 1
`;

/** KEYS lease; ARGV holder, ttl ms: taken when free (lapsed keys expire), renewed by its holder. */
const CLAIM_LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS lease; ARGV holder: deleted only by its holder. */
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

interface AuditScripts {
  tetherAuditPrune(lines: string, cursors: string, from: string, to: string): Promise<number>;
  tetherAuditClaimLease(lease: string, holder: string, ttlMs: string): Promise<number>;
  tetherAuditReleaseLease(lease: string, holder: string): Promise<number>;
  tetherAuditAppend(head: string, lines: string, leaves: string, ...args: string[]): Promise<number>;
  tetherAuditCursor(cursors: string, name: string, next: string): Promise<number>;
}

const SCAN_CHUNK = 500;

/**
 * The cluster's one audit log in Redis: the records and their leaf hashes in two lists whose
 * positions are the indexes, and the head, all under the `{audit}` hash tag so a Redis Cluster
 * keeps them in one slot and the append script is atomic. Queries scan in chunks and filter here.
 */
export class RedisAuditLog implements AuditLogStore {
  private readonly keys;
  private readonly scripts: AuditScripts;

  constructor(private readonly client: RedisClient, prefix = 'tether') {
    const base = `${prefix}:{audit}:`;
    this.keys = { base, head: `${base}head`, lines: `${base}lines`, leaves: `${base}leaves`, checkpoints: `${base}checkpoints`, cursors: `${base}cursors` };
    client.defineCommand('tetherAuditAppend', { lua: APPEND, numberOfKeys: 3 });
    client.defineCommand('tetherAuditCursor', { lua: SET_CURSOR, numberOfKeys: 1 });
    client.defineCommand('tetherAuditPrune', { lua: PRUNE, numberOfKeys: 2 });
    client.defineCommand('tetherAuditClaimLease', { lua: CLAIM_LEASE, numberOfKeys: 1 });
    client.defineCommand('tetherAuditReleaseLease', { lua: RELEASE_LEASE, numberOfKeys: 1 });
    this.scripts = client as unknown as AuditScripts;
  }

  head(): Promise<AuditHead> {
    return callRedis(async () => {
      const raw = await this.client.get(this.keys.head);
      if (!raw) return { size: 0, hash: GENESIS_HASH };
      const [size, hash] = raw.split(' ');
      return { size: Number(size), hash };
    });
  }

  append(expected: AuditHead, entries: readonly AuditLogEntry[]): Promise<boolean> {
    const last = entries[entries.length - 1];
    const next = last ? `${last.index + 1} ${last.hash}` : `${expected.size} ${expected.hash}`;
    const args = entries.flatMap((e) => [e.line, e.leaf.toString('hex')]);
    return callRedis(async () => (await this.scripts.tetherAuditAppend(this.keys.head, this.keys.lines, this.keys.leaves, `${expected.size} ${expected.hash}`, next, ...args)) === 1);
  }

  read(from: number, to: number): Promise<string[]> {
    if (to <= from) return Promise.resolve([]);
    return callRedis(async () => (await this.client.lrange(this.keys.lines, from, to - 1)).filter((line) => line !== ''));
  }

  async prune(before: number): Promise<void> {
    // In chunks, so one script never holds Redis for long.
    for (let from = await this.prunedBefore(); from < before; from += 1000) {
      const to = Math.min(before, from + 1000);
      await callRedis(() => this.scripts.tetherAuditPrune(this.keys.lines, this.keys.cursors, String(from), String(to)));
    }
  }

  prunedBefore(): Promise<number> {
    return this.getCursor('#pruned');
  }

  leaves(from: number, to: number): Promise<Buffer[]> {
    if (to <= from) return Promise.resolve([]);
    return callRedis(async () => (await this.client.lrange(this.keys.leaves, from, to - 1)).map((hex) => Buffer.from(hex, 'hex')));
  }

  async query(filter: AuditFilter, after: number, limit: number): Promise<string[]> {
    const found: string[] = [];
    const { size } = await this.head();
    for (let from = Math.max(after + 1, await this.prunedBefore()); from < size && found.length < limit; from += SCAN_CHUNK) {
      for (const line of await this.read(from, Math.min(size, from + SCAN_CHUNK))) {
        if (matches(JSON.parse(line) as Record<string, string>, filter)) found.push(line);
        if (found.length >= limit) break;
      }
    }
    return found;
  }

  getCursor(name: string): Promise<number> {
    return callRedis(async () => Number((await this.client.hget(this.keys.cursors, name)) ?? 0));
  }

  setCursor(name: string, next: number): Promise<void> {
    return callRedis(async () => {
      await this.scripts.tetherAuditCursor(this.keys.cursors, name, String(next));
    });
  }

  claimLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return callRedis(async () => (await this.scripts.tetherAuditClaimLease(`${this.keys.base}lease:${name}`, holder, String(Math.max(1, Math.round(ttlMs))))) === 1);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return callRedis(async () => {
      await this.scripts.tetherAuditReleaseLease(`${this.keys.base}lease:${name}`, holder);
    });
  }

  addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    return callRedis(async () => {
      await this.client.rpush(this.keys.checkpoints, JSON.stringify(checkpoint));
    });
  }

  checkpoints(limit = 1000): Promise<Checkpoint[]> {
    return callRedis(async () => (await this.client.lrange(this.keys.checkpoints, -limit, -1)).map((body) => JSON.parse(body) as Checkpoint));
  }
}

/** Whether a record's clear fields match the filter (the same test SQLite's WHERE makes). */
export function matches(record: Record<string, string>, filter: AuditFilter): boolean {
  return (
    (filter.actor === undefined || record.actor === filter.actor) &&
    (filter.event === undefined || record.event === filter.event) &&
    (filter.target === undefined || record.target === filter.target) &&
    (filter.outcome === undefined || record.outcome === filter.outcome) &&
    (filter.from === undefined || record.time >= filter.from) &&
    (filter.to === undefined || record.time < filter.to)
  );
}
