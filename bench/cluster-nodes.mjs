// The processes of the cluster benchmark: one redis-server and N `tether relay --redis` nodes,
// each its own process group, started and stopped by PID (bench/procs.mjs).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, start, startRelayNode, waitForPort } from './procs.mjs';

/** A redis-server on a free loopback port, no persistence, files in `dir`. */
export async function startRedisServer(dir) {
  const port = await freePort();
  const proc = start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxclients', '10000']);
  await waitForPort(port);
  const cli = (...args) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return { proc, port, url: `redis://127.0.0.1:${port}`, cli };
}

/** INFO `section` as { field: value }. */
export function redisInfo(redis, section) {
  const out = {};
  for (const line of redis.cli('INFO', section).split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

/** Calls per command from INFO commandstats: { evalsha: n, ... }. */
export function commandCalls(redis) {
  const calls = {};
  for (const [key, value] of Object.entries(redisInfo(redis, 'commandstats'))) {
    calls[key.replace(/^cmdstat_/, '')] = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
  }
  return calls;
}

/** Starts `count` relays on `redis`, `parallel` at a time. Resolves [{ id, url, proc }]. */
export async function startRelays({ cli, redis, count, secret, adminToken, dir, parallel = 4, log }) {
  const nodes = [];
  const one = async (i) => {
    const id = `bench-${String(i).padStart(2, '0')}`;
    const port = await freePort();
    const proc = startRelayNode(id, [cli, 'relay', '--port', String(port), '--data', join(dir, id), '--log-level', 'warn', '--log-format', 'json', '--redis', redis.url, '--node-id', id], [], {
      TETHER_CLUSTER_SECRET: secret,
      TETHER_ADMIN_TOKEN: adminToken,
    });
    const [url] = await proc.waitFor('stdout', /^http:\/\/\S+$/, 60_000);
    nodes[i] = { id, index: i, url, proc };
  };
  for (let i = 0; i < count; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, k) => one(i + k)));
    log?.(`  ${Math.min(i + parallel, count)} of ${count} relays up`);
  }
  return nodes;
}

/** RSS (MB) of every live node. */
export function rssOf(nodes) {
  return nodes.filter((n) => !n.dead).map((n) => n.proc.rssMB());
}
