import { Cluster, Redis } from 'ioredis';
import { createError, ErrorCode } from '@tether/shared';

/** A standalone Redis or a Redis Cluster: the store uses only what both offer. */
export type RedisClient = Redis | Cluster;

/** Where the relay's Redis is: one standalone server, or seed nodes of a Redis Cluster. */
export type RedisTarget = { url: string } | { clusterUrls: string[] };

/** How long a command may wait for Redis before it fails with STORE_UNAVAILABLE. */
export const COMMAND_TIMEOUT_MS = 1000;

/** Reconnect quickly, but never faster than every 100 ms nor slower than every second. */
const retryDelay = (attempt: number): number => Math.min(100 * attempt, 1000);

/**
 * Options that make a Redis outage cost each request at most about a second, never a hang:
 * commands are not queued while the connection is down (they fail at once), a command sent to a
 * server that stops answering times out, and the client keeps reconnecting on its own so
 * requests succeed again as soon as Redis is back.
 */
const failFast = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: COMMAND_TIMEOUT_MS,
  lazyConnect: true,
} as const;

function parseUrl(url: string, flag: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw createError(ErrorCode.INVALID_CONFIG, `${flag} takes a URL like redis://127.0.0.1:6379, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw createError(ErrorCode.INVALID_CONFIG, `${flag} takes a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  }
  return parsed;
}

/**
 * Builds the client (not yet connected: see `connectRedis`). Bad URLs are refused, named.
 * `onError` hears the client's connection errors (it keeps reconnecting meanwhile; calls fail
 * with STORE_UNAVAILABLE): without a listener ioredis would print each one.
 */
export function createRedisClient(target: RedisTarget, onError: (err: Error) => void = () => undefined): RedisClient {
  const client = build(target);
  client.on('error', onError);
  return client;
}

function build(target: RedisTarget): RedisClient {
  if ('url' in target) {
    parseUrl(target.url, '--redis');
    return new Redis(target.url, { ...failFast, retryStrategy: retryDelay });
  }
  if (target.clusterUrls.length === 0) throw createError(ErrorCode.INVALID_CONFIG, '--redis-cluster needs at least one redis:// URL');
  const seeds = target.clusterUrls.map((url) => parseUrl(url, '--redis-cluster'));
  const first = seeds[0];
  return new Cluster(
    seeds.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: retryDelay,
      // A failover (a replica promoted) takes a few seconds: the slots are refreshed meanwhile.
      retryDelayOnClusterDown: 200,
      retryDelayOnFailover: 200,
      redisOptions: {
        maxRetriesPerRequest: 1,
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: COMMAND_TIMEOUT_MS,
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
        tls: first.protocol === 'rediss:' ? {} : undefined,
      },
    },
  );
}

/** Human-readable "where": the URL without its password. */
export function describeTarget(target: RedisTarget): string {
  const strip = (url: string): string => url.replace(/\/\/[^@/]*@/, '//');
  return 'url' in target ? strip(target.url) : `cluster ${target.clusterUrls.map(strip).join(',')}`;
}

/**
 * Connects and waits until the client is ready (for a cluster: slots known), or fails with
 * STORE_UNAVAILABLE after `timeoutMs`, naming where Redis was looked for.
 */
export async function connectRedis(client: RedisClient, target: RedisTarget, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // The connection's own error (ECONNREFUSED, a bad password) says more than connect()'s rejection.
  let cause: Error | undefined;
  const remember = (err: Error): void => {
    cause ??= err;
  };
  client.on('error', remember);
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw createError(ErrorCode.STORE_UNAVAILABLE, `cannot reach Redis at ${describeTarget(target)}: ${(cause ?? (err as Error)).message}`);
  } finally {
    clearTimeout(timer);
    client.off('error', remember);
  }
}
