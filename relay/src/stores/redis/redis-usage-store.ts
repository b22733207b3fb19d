import { createError, ErrorCode } from '@tether/shared';
import { bucketOf, emptyCounters, STEP_MS, USAGE_STEPS, type UsageDelta, type UsageQuery, type UsageRetention, type UsageRow, type UsageStep, type UsageStore } from '../../ports/usage-store.js';
import type { RedisClient } from './redis-client.js';
import { callRedis } from './redis-errors.js';

/**
 * KEYS bucket hash; ARGV expire-at (ms), then (field, value, op) triples: op `+` is HINCRBY, `^`
 * keeps the larger value (peak concurrent streams). One key per call, so a bucket's writes are
 * atomic and never cross a Redis Cluster slot.
 */
const ADD = `
for i = 2, #ARGV, 3 do
  local field, value = ARGV[i], tonumber(ARGV[i + 1])
  if ARGV[i + 2] == '^' then
    local current = tonumber(redis.call('HGET', KEYS[1], field) or '0')
    if value > current then redis.call('HSET', KEYS[1], field, value) end
  else
    redis.call('HINCRBY', KEYS[1], field, value)
  end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`;

/** Most buckets one query reads (a range this long at this step asks for a coarser step). */
export const MAX_QUERY_BUCKETS = 5000;

const FIELDS: [keyof Omit<UsageDelta, 'failed' | 'protocols' | 'minute' | 'tunnel' | 'user' | 'node'>, string][] = [
  ['bytesUp', 'up'],
  ['bytesDown', 'down'],
  ['opened', 'opened'],
  ['closed', 'closed'],
  ['durationMs', 'ms'],
];

interface UsageScripts {
  tetherUsageAdd(key: string, ...args: (string | number)[]): Promise<number>;
}

/**
 * Usage roll-ups in Redis (standalone or Cluster): one hash per (step, bucket), key
 * `PREFIX:{usage:STEP:BUCKET}`: its own hash tag, so the buckets spread over the cluster's slots
 * and each write touches one. A field is `["tunnel","user","node"]|metric` (metrics `up`, `down`,
 * `opened`, `closed`, `ms`, `peak`, `failed:CODE`, `proto:PROTOCOL`); counters are HINCRBY, the peak a Lua max.
 * Retention is the key's expiry (bucket end + the step's retention), refreshed at every write.
 */
export class RedisUsageStore implements UsageStore {
  private readonly scripts: UsageScripts;

  constructor(private readonly client: RedisClient, private readonly prefix = 'tether') {
    client.defineCommand('tetherUsageAdd', { lua: ADD, numberOfKeys: 1 });
    this.scripts = client as unknown as UsageScripts;
  }

  key(step: UsageStep, bucket: number): string {
    return `${this.prefix}:{usage:${step}:${bucket}}`;
  }

  add(deltas: readonly UsageDelta[], retention: UsageRetention): Promise<void> {
    return callRedis(async () => {
      const byKey = new Map<string, (string | number)[]>();
      const expiry = new Map<string, number>();
      for (const d of deltas) {
        const group = JSON.stringify([d.tunnel, d.user, d.node]);
        for (const step of USAGE_STEPS) {
          const bucket = bucketOf(step, d.minute);
          const key = this.key(step, bucket);
          let args = byKey.get(key);
          if (!args) {
            byKey.set(key, (args = []));
            expiry.set(key, bucket + STEP_MS[step] + retention[step]);
          }
          for (const [name, field] of FIELDS) if (d[name] !== 0) args.push(`${group}|${field}`, d[name], '+');
          if (d.peak > 0) args.push(`${group}|peak`, d.peak, '^');
          for (const [code, n] of Object.entries(d.failed)) args.push(`${group}|failed:${code}`, n, '+');
          for (const [protocol, n] of Object.entries(d.protocols)) args.push(`${group}|proto:${protocol}`, n, '+');
        }
      }
      await Promise.all([...byKey].map(([key, args]) => this.scripts.tetherUsageAdd(key, expiry.get(key)!, ...args)));
    });
  }

  query(query: UsageQuery): Promise<UsageRow[]> {
    const size = STEP_MS[query.step];
    const first = bucketOf(query.step, query.from) < query.from ? bucketOf(query.step, query.from) + size : bucketOf(query.step, query.from);
    const count = query.to > first ? Math.ceil((query.to - first) / size) : 0;
    if (count > MAX_QUERY_BUCKETS) throw createError(ErrorCode.INVALID_ARGUMENT, `that range holds ${count} ${query.step}s, more than ${MAX_QUERY_BUCKETS}: shorten it or use a coarser step`);
    const only = query.tunnels && new Set(query.tunnels);
    return callRedis(async () => {
      const buckets = Array.from({ length: count }, (_, i) => first + i * size);
      const rows: UsageRow[] = [];
      // In chunks: a long range is many keys on many slots, each its own command.
      for (let i = 0; i < buckets.length; i += 200) {
        const chunk = buckets.slice(i, i + 200);
        const hashes = await Promise.all(chunk.map((b) => this.client.hgetall(this.key(query.step, b))));
        chunk.forEach((bucket, j) => rows.push(...toRows(query.step, bucket, hashes[j], only)));
      }
      return rows;
    });
  }

  async prune(): Promise<void> {
    // Keys expire by themselves.
  }
}

function toRows(step: UsageStep, bucket: number, hash: Record<string, string>, only: Set<string> | undefined): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const [field, value] of Object.entries(hash)) {
    const bar = field.lastIndexOf('|');
    const group = field.slice(0, bar);
    const metric = field.slice(bar + 1);
    let row = rows.get(group);
    if (!row) {
      const [tunnel, user, node] = JSON.parse(group) as [string, string, string];
      if (only && !only.has(tunnel)) continue;
      row = { step, bucket, tunnel, user, node, ...emptyCounters() };
      rows.set(group, row);
    }
    const n = Number(value);
    if (metric.startsWith('failed:')) row.failed[metric.slice('failed:'.length)] = n;
    else if (metric.startsWith('proto:')) row.protocols[metric.slice('proto:'.length)] = n;
    else if (metric === 'peak') row.peak = n;
    else {
      const name = FIELDS.find(([, f]) => f === metric)?.[0];
      if (name) row[name] = n;
    }
  }
  const order = (r: UsageRow) => [r.tunnel, r.user, r.node];
  return [...rows.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  });
}
