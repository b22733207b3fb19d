import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { startRedis, type RedisProcess } from '../../test-support/redis-server.js';
import { storeContract } from '../store-contract.js';
import { connectRedis, createRedisClient, describeTarget } from './redis-client.js';
import { RedisStore } from './redis-store.js';

let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

async function openStore(server: RedisProcess, prefix = `test-${randomUUID()}`): Promise<RedisStore> {
  const target = { url: server.url };
  const client = createRedisClient(target);
  await connectRedis(client, target);
  // A prefix per store: the tests share one server and never see each other's keys.
  return new RedisStore(client, { prefix });
}

storeContract('Redis (standalone)', () => openStore(redis!.server), (store) => openStore(redis!.server, (store as RedisStore).prefix));

test('a stopped Redis fails calls with STORE_UNAVAILABLE within 2 s, and the same store works again once it is back', async (t) => {
  const store = await openStore(redis!.server);
  t.after(() => store.close());
  await store.createUser('alice', 'a'.repeat(64));
  await redis!.server.stop();
  for (const call of [() => store.findUserByTokenHash('a'.repeat(64)), () => store.ping(), () => store.claimTunnel('web', 1)]) {
    const started = Date.now();
    await assert.rejects(call(), (err: { code: string; message: string }) => {
      assert.equal(err.code, ErrorCode.STORE_UNAVAILABLE);
      assert.match(err.message, /Redis store is unavailable/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
  }
  await redis!.server.start();
  // The client reconnects by itself (every second at most): no new store, no restart.
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await store.ping();
      break;
    } catch (err) {
      assert.equal((err as { code: string }).code, ErrorCode.STORE_UNAVAILABLE);
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  // The server kept nothing (no persistence in tests): the store writes and reads again.
  const bob = await store.createUser('bob', 'b'.repeat(64));
  assert.deepEqual(await store.findUserByTokenHash('b'.repeat(64)), bob);
});

test('a Redis that stops answering (SIGSTOP) fails calls with STORE_UNAVAILABLE within 2 s, and they work once it answers again', async (t) => {
  const store = await openStore(redis!.server);
  t.after(() => store.close());
  redis!.server.pause();
  t.after(() => redis!.server.resume());
  const started = Date.now();
  await assert.rejects(store.findUserByName('alice'), { code: ErrorCode.STORE_UNAVAILABLE, message: /timed out/ });
  assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
  redis!.server.resume();
  assert.equal(await store.findUserByName('alice'), undefined);
});

test('connecting to a Redis that is not there fails with STORE_UNAVAILABLE naming it, without the password', async () => {
  const target = { url: `redis://user:secret@127.0.0.1:1` };
  await assert.rejects(connectRedis(createRedisClient(target), target, 1500), (err: { code: string; message: string }) => {
    assert.equal(err.code, ErrorCode.STORE_UNAVAILABLE);
    assert.match(err.message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
  assert.equal(describeTarget({ clusterUrls: ['redis://:pw@a:1', 'redis://b:2'] }), 'cluster redis://a:1,redis://b:2');
});

test('bad Redis URLs are refused with INVALID_CONFIG, naming the flag', () => {
  assert.throws(() => createRedisClient({ url: 'localhost:6379' }), { code: ErrorCode.INVALID_CONFIG, message: /--redis takes a redis:\/\/ or rediss:\/\/ URL/ });
  assert.throws(() => createRedisClient({ url: 'not a url' }), { code: ErrorCode.INVALID_CONFIG, message: /--redis takes a URL/ });
  assert.throws(() => createRedisClient({ clusterUrls: [] }), { code: ErrorCode.INVALID_CONFIG, message: /--redis-cluster needs/ });
  assert.throws(() => createRedisClient({ clusterUrls: ['http://a:1'] }), { code: ErrorCode.INVALID_CONFIG, message: /--redis-cluster takes/ });
});
