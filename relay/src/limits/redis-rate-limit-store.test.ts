import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import type { RateRule } from '../ports/rate-limit-store.js';
import { ManualClock } from '../registry/registry-contract.js';
import { connectRedis, createRedisClient, type RedisClient, type RedisTarget } from '../stores/redis/redis-client.js';
import { startRedis, startRedisCluster, type RedisFixture, type RedisProcess } from '../test-support/redis-server.js';
import { MemoryRateLimitStore } from './memory-rate-limit-store.js';
import { rateLimitStoreContract } from './rate-limit-store-contract.js';
import { rateLimitKey, RedisRateLimitStore, STORE_DOWN_RETRY_MS, type RateLimitLog } from './redis-rate-limit-store.js';

// Real redis-server processes: a standalone one, a Redis Cluster of six (three masters, three
// replicas; every bucket is one key, so no script crosses slots), and a standalone one of its own
// for the outage tests, which stop it. A random prefix per store keeps the tests' keys apart.
let redis: (RedisFixture & { server: RedisProcess }) | undefined;
let doomed: (RedisFixture & { server: RedisProcess }) | undefined;
let cluster: RedisFixture | undefined;
const clients: RedisClient[] = [];

async function connect(target: RedisTarget): Promise<RedisClient> {
  const client = createRedisClient(target);
  await connectRedis(client, target);
  clients.push(client);
  return client;
}

const standaloneTarget = (): RedisTarget => ({ url: redis!.server.url });
const clusterTarget = (): RedisTarget => ({ clusterUrls: cluster!.servers.slice(0, 2).map((s) => s.url) });
let standalone: RedisClient;
let clustered: RedisClient;

before(async () => {
  redis = await startRedis();
  doomed = await startRedis();
  cluster = await startRedisCluster();
  standalone = await connect(standaloneTarget());
  clustered = await connect(clusterTarget());
});
after(async () => {
  for (const client of clients) client.disconnect();
  await redis?.stop();
  await doomed?.stop();
  await cluster?.stop();
});

const open = (client: () => RedisClient) => async (clock: ManualClock) =>
  new RedisRateLimitStore(client(), { prefix: `test-${randomUUID()}`, clock });

rateLimitStoreContract('Redis (standalone)', open(() => standalone));
rateLimitStoreContract('Redis Cluster (3 masters, 3 replicas)', open(() => clustered));

test('Redis: a bucket is one key PREFIX:{rl:KEY} that expires when the bucket is full again; a peek or a refusal writes nothing', async () => {
  const prefix = `test-${randomUUID()}`;
  const clock = new ManualClock();
  const store = new RedisRateLimitStore(standalone, { prefix, clock });
  const hourly: RateRule = { rate: 1, periodMs: 3_600_000, burst: 2 };
  const key = rateLimitKey(prefix, 'api:id:7');
  assert.equal(key, `${prefix}:{rl:api:id:7}`);
  await store.peek('api:id:7', hourly);
  assert.equal(await standalone.exists(key), 0, 'a peek creates no bucket');
  await store.take('api:id:7', hourly);
  const ttl = await standalone.pttl(key);
  assert.ok(ttl > 0 && ttl <= 3_600_000, `PTTL ${ttl}: the time until the bucket is full again`);
  await store.take('api:id:7', hourly);
  const full = await standalone.pttl(key);
  assert.ok(full > 3_600_000 && full <= 7_200_000, `PTTL ${full} after the second take`);
  assert.equal((await store.take('api:id:7', hourly)).allowed, false);
  assert.ok((await standalone.pttl(key)) <= full, 'the refusal did not extend it');
  await store.reset('api:id:7');
  assert.equal(await standalone.exists(key), 0);
});

/** Three relays: a client each, deciding on the Redis server's clock (no injected clock). */
async function hammer(target: RedisTarget, label: string): Promise<void> {
  const prefix = `test-${randomUUID()}`;
  const relays = await Promise.all([0, 1, 2].map(async () => new RedisRateLimitStore(await connect(target), { prefix })));
  // Fifty a day: no event is earned back while the test runs, so exactly the burst passes.
  const daily: RateRule = { rate: 50, periodMs: 86_400_000, burst: 50 };
  // Warm: a Redis Cluster client learns the slots on its first command.
  await Promise.all(relays.map((relay) => relay.peek('warm-up', daily)));
  const decisions = await Promise.all(relays.flatMap((relay) => Array.from({ length: 100 }, () => relay.take('opens:tunnel:web', daily))));
  // Redis decided every one of them, unless a command outlived the client's timeout on a loaded
  // machine: that decision fell back to the node's own bucket (degraded) and is not Redis's.
  const byRedis = decisions.filter((d) => d.degraded === undefined);
  const admitted = byRedis.filter((d) => d.allowed).length;
  if (byRedis.length === decisions.length) assert.equal(admitted, 50, label);
  else assert.ok(admitted <= 50, `${label}: Redis admitted ${admitted}, more than the burst`);
  for (const refused of decisions.filter((d) => !d.allowed)) {
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 86_400_000 / 50, `retry after ${refused.retryAfterMs}`);
  }
}

test('three relays (three clients) hammering one bucket on one Redis never admit more than the burst, on Redis time', () => hammer(standaloneTarget(), 'standalone'));
test('three relays hammering one bucket on a Redis Cluster never admit more than the burst', () => hammer(clusterTarget(), 'cluster'));

class RecordingLog implements RateLimitLog {
  readonly lines: string[] = [];
  warn(_: object, message: string): void {
    this.lines.push(`warn ${message}`);
  }
  info(_: object, message: string): void {
    this.lines.push(`info ${message}`);
  }
}

test('Redis down: each rule follows its onStoreDown (local by default, open, closed), the outage is logged once, and Redis decides again once it is back', async (t) => {
  const clock = new ManualClock();
  const log = new RecordingLog();
  const store = new RedisRateLimitStore(await connect({ url: doomed!.server.url }), { prefix: `test-${randomUUID()}`, clock, log, fallback: new MemoryRateLimitStore(clock) });
  t.after(() => doomed!.server.start());
  const rule: RateRule = { rate: 2, periodMs: 60_000, burst: 2 };
  assert.equal((await store.take('k', rule)).allowed, true);
  await doomed!.server.stop();

  // local: this node's own bucket, in memory; it does not know what Redis had taken.
  const local = [await store.take('k', rule), await store.take('k', rule), await store.take('k', rule)];
  assert.deepEqual(local.map((d) => [d.allowed, d.degraded]), [[true, 'local'], [true, 'local'], [false, 'local']]);
  assert.equal(store.degraded, true);
  // open: admitted, and said so.
  const open = await store.take('k', { ...rule, onStoreDown: 'open' });
  assert.deepEqual([open.allowed, open.degraded], [true, 'open']);
  // closed: refused, with a retry-after.
  const closed = await store.take('k', { ...rule, onStoreDown: 'closed' });
  assert.deepEqual([closed.allowed, closed.degraded, closed.retryAfterMs], [false, 'closed', STORE_DOWN_RETRY_MS]);
  assert.deepEqual(log.lines.map((l) => l.split(':')[0]), ['warn rate limits'], 'one warning for the whole outage');
  assert.match(log.lines[0], /Redis unreachable/);

  await doomed!.server.start();
  // The client reconnects by itself (every second at most): poll, degraded meanwhile.
  const deadline = Date.now() + 10_000;
  let back = await store.take('k', rule);
  while (back.degraded !== undefined) {
    assert.ok(Date.now() < deadline, 'Redis did not come back');
    await new Promise((resolve) => setTimeout(resolve, 100));
    back = await store.take('k', rule);
  }
  // The restarted server kept nothing (no persistence in tests): a fresh bucket in Redis.
  assert.equal(back.allowed, true);
  assert.equal(back.remaining, 1);
  assert.equal(store.degraded, false);
  assert.match(log.lines.at(-1)!, /^info rate limits: Redis reachable again/);
});

test('a Redis that stops answering (SIGSTOP) is an outage too: the rule\'s policy decides after the command timeout', async (t) => {
  const clock = new ManualClock();
  const store = new RedisRateLimitStore(await connect({ url: doomed!.server.url }), { prefix: `test-${randomUUID()}`, clock });
  doomed!.server.pause();
  t.after(() => doomed!.server.resume());
  const d = await store.take('k', { rate: 1, periodMs: 1000, burst: 1, onStoreDown: 'closed' });
  assert.deepEqual([d.allowed, d.degraded], [false, 'closed']);
});

test('a Redis that lost its scripts (SCRIPT FLUSH, a restart) gets the script again on NOSCRIPT: the take still decides', async () => {
  const store = new RedisRateLimitStore(standalone, { prefix: `test-${randomUUID()}`, clock: new ManualClock() });
  const rule: RateRule = { rate: 1, periodMs: 60_000, burst: 1 };
  assert.equal((await store.take('k', rule)).allowed, true);
  await standalone.script('FLUSH');
  const d = await store.take('k', rule);
  assert.deepEqual([d.allowed, d.degraded], [false, undefined]);
});

test('an impossible cost is refused before Redis is asked, with the memory store\'s code', async () => {
  const store = new RedisRateLimitStore(standalone, { prefix: `test-${randomUUID()}` });
  await assert.rejects(store.take('k', { rate: 1, periodMs: 1000, burst: 2 }, 3), { code: ErrorCode.INVALID_ARGUMENT });
});
