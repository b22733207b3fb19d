import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { startRedisCluster, type RedisFixture } from '../../test-support/redis-server.js';
import { storeContract } from '../store-contract.js';
import { connectRedis, createRedisClient } from './redis-client.js';
import { RedisStore } from './redis-store.js';

// A real Redis Cluster of six redis-server processes (three masters, three replicas): the
// scripts' keys must all hash to one slot, or Redis Cluster refuses them with CROSSSLOT.
let cluster: RedisFixture | undefined;
before(async () => {
  cluster = await startRedisCluster();
});
after(() => cluster?.stop());

async function openStore(prefix = `test-${randomUUID()}`): Promise<RedisStore> {
  const target = { clusterUrls: cluster!.servers.slice(0, 2).map((s) => s.url) };
  const client = createRedisClient(target);
  await connectRedis(client, target);
  return new RedisStore(client, { prefix });
}

storeContract('Redis Cluster (3 masters, 3 replicas)', () => openStore(), (store) => openStore((store as RedisStore).prefix));
