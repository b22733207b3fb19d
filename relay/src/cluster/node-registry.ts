import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import type { RedisClient } from '../stores/redis/redis-client.js';

/** What a node says about itself at every heartbeat. */
export interface NodeInfo {
  id: string;
  /** How other nodes (and operators) reach this node. */
  advertise: string;
  version: string;
  /** When the node started (ISO 8601). */
  startedAt: string;
  /** Open links (host and connector WebSockets) on this node. */
  links: number;
  /** Open streams on this node. */
  streams: number;
}

/** A live node as listed: its last heartbeat, and how long ago Redis received it. */
export interface LiveNode extends NodeInfo {
  ageMs: number;
}

/** The registry's keys: one hash tag of their own, apart from the directory's `{dir}`. */
export function nodeKeys(prefix = 'tether'): { live: string; info: string } {
  return { live: `${prefix}:{nodes}:live`, info: `${prefix}:{nodes}:info` };
}

// Redis's own clock (TIME) dates every heartbeat, so the nodes' clocks need not agree.
// KEYS: live (sorted set id → expiry in ms), info (hash id → JSON). ARGV: id, JSON, ttl ms,
// this process's instance id, its advertise URL, '1' on its first heartbeat.
// Answers {now} once written, or {-1, JSON} when another live process heartbeats as this id: a
// first heartbeat takes the id over only from an entry with the same advertise URL (its own
// predecessor, killed: nothing else can listen there now); later ones never overwrite another.
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(dead) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current then
  local ok, other = pcall(cjson.decode, current)
  if ok and type(other) == 'table' and other.instance and other.instance ~= ARGV[4] then
    if ARGV[6] ~= '1' or other.advertise ~= ARGV[5] then return { -1, current } end
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return { now }`;

// Answers {now, id, expiry, JSON, id, expiry, JSON, …} for the nodes whose heartbeat has not expired.
const LIST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { tostring(now) }
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
for i = 1, #live, 2 do
  local info = redis.call('HGET', KEYS[2], live[i])
  if info then
    table.insert(out, live[i]); table.insert(out, live[i + 1]); table.insert(out, info)
  end
end
return out`;

const REMOVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`;

interface Scripts {
  tetherNodeHeartbeat(live: string, info: string, id: string, json: string, ttlMs: number, instance: string, advertise: string, first: string): Promise<[number, string?]>;
  tetherNodeList(live: string, info: string): Promise<string[]>;
  tetherNodeRemove(live: string, info: string, id: string): Promise<number>;
}

export interface NodeRegistryOptions {
  /** Every this often the node writes its heartbeat (default 2 s). */
  heartbeatMs?: number;
  /** A heartbeat older than this is a dead node's (default 6 s: three missed heartbeats). */
  ttlMs?: number;
  prefix?: string;
}

/**
 * The cluster's live nodes, in Redis: a sorted set of node ids scored by when their heartbeat
 * expires, and a hash of each node's last heartbeat. Expired entries are pruned by every
 * heartbeat and skipped by every listing, so a node killed without saying goodbye disappears
 * after the TTL; one that closes removes itself at once.
 */
export class NodeRegistry {
  private readonly scripts: Scripts;
  private readonly keys: { live: string; info: string };
  private readonly heartbeatMs: number;
  readonly ttlMs: number;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private clashing = false;
  /** This process, as opposed to another one given the same node id. */
  private readonly instance = randomUUID();

  constructor(
    private readonly client: RedisClient,
    private readonly self: () => NodeInfo,
    private readonly log: FastifyBaseLogger,
    options: NodeRegistryOptions = {},
  ) {
    this.keys = nodeKeys(options.prefix);
    this.heartbeatMs = options.heartbeatMs ?? 2000;
    this.ttlMs = options.ttlMs ?? 6000;
    client.defineCommand('tetherNodeHeartbeat', { lua: HEARTBEAT, numberOfKeys: 2 });
    client.defineCommand('tetherNodeList', { lua: LIST, numberOfKeys: 2 });
    client.defineCommand('tetherNodeRemove', { lua: REMOVE, numberOfKeys: 2 });
    this.scripts = client as unknown as Scripts;
  }

  /**
   * Writes the first heartbeat now, then one every heartbeatMs until `stop`. Rejects with
   * INVALID_CONFIG when another live node (at another address) already uses this node id.
   */
  async start(): Promise<void> {
    if (this.timer) return;
    await this.beat(true);
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /**
   * One heartbeat. A failure (Redis down) is logged once per outage, never thrown; so is a later
   * heartbeat finding that another process now heartbeats as this id (it is not overwritten).
   */
  async beat(first = false): Promise<void> {
    const info = this.self();
    let answer: [number, string?];
    try {
      answer = await this.scripts.tetherNodeHeartbeat(this.keys.live, this.keys.info, info.id, JSON.stringify({ ...info, ttlMs: this.ttlMs, instance: this.instance }), this.ttlMs, this.instance, info.advertise, first ? '1' : '0');
      if (this.failing) this.log.info({ node: info.id }, 'node heartbeat written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ node: info.id, err: (err as Error).message }, 'node heartbeat failed: other nodes stop listing this node once its last heartbeat expires');
      this.failing = true;
      return;
    }
    if (answer[0] !== -1) {
      if (this.clashing) this.log.info({ node: info.id }, 'node id is this node\'s alone again');
      this.clashing = false;
      return;
    }
    const other = parseInfo(answer[1]);
    const where = other ? `${other.advertise}, started ${other.startedAt}` : 'another address';
    if (first) {
      throw createError(ErrorCode.INVALID_CONFIG, `node id ${info.id} is in use by a live node (${where}): give every node its own --node-id (or none, for a random one)`);
    }
    if (!this.clashing) this.log.error({ node: info.id, other: where }, 'another process heartbeats as this node id: this node is no longer listed; give every node its own --node-id');
    this.clashing = true;
  }

  /** The live nodes, by id. Fails with STORE_UNAVAILABLE while Redis is down. */
  async list(): Promise<LiveNode[]> {
    const [nowText, ...rest] = await this.scripts.tetherNodeList(this.keys.live, this.keys.info);
    const now = Number(nowText);
    const nodes: LiveNode[] = [];
    for (let i = 0; i + 2 < rest.length; i += 3) {
      const parsed = parseInfo(rest[i + 2]);
      if (!parsed) continue;
      const beatAt = Number(rest[i + 1]) - parsed.ttlMs;
      const { ttlMs: _ttl, ...info } = parsed;
      nodes.push({ ...info, ageMs: Math.max(0, now - beatAt) });
    }
    return nodes.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Stops the heartbeats and, unless `remove` is false (a simulated crash), removes the entry. */
  async stop(remove = true): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!remove) return;
    try {
      await this.scripts.tetherNodeRemove(this.keys.live, this.keys.info, this.self().id);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not remove this node from the registry: it disappears once its last heartbeat expires');
    }
  }
}

function parseInfo(json: string | undefined): (NodeInfo & { ttlMs: number }) | undefined {
  if (json === undefined) return undefined;
  try {
    const v = JSON.parse(json) as Record<string, unknown>;
    if (typeof v.id !== 'string' || typeof v.advertise !== 'string' || typeof v.ttlMs !== 'number') return undefined;
    return {
      id: v.id,
      advertise: v.advertise,
      version: typeof v.version === 'string' ? v.version : 'unknown',
      startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
      links: Number(v.links ?? 0),
      streams: Number(v.streams ?? 0),
      ttlMs: v.ttlMs,
    };
  } catch {
    return undefined;
  }
}
