import type { FastifyBaseLogger } from 'fastify';
import { connectRedis, createRedisClient, describeTarget, type RedisTarget } from './redis-client.js';
import { RedisStore } from './redis-store.js';

/**
 * Connects to Redis (or fails with STORE_UNAVAILABLE naming it) and returns the store on it.
 * An outage is logged once when it starts and once when Redis is back, not at every reconnect.
 */
export async function openRedisStore(target: RedisTarget, log: FastifyBaseLogger, options: { prefix?: string } = {}): Promise<RedisStore> {
  const where = describeTarget(target);
  let down = false;
  const client = createRedisClient(target, (err) => {
    if (down) return;
    down = true;
    log.warn({ redis: where, err: err.message }, 'Redis unreachable: requests that need the store fail with TETHER_ERR_STORE_UNAVAILABLE until it is back');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ redis: where }, 'Redis reachable again');
  });
  await connectRedis(client, target);
  return new RedisStore(client, options);
}
