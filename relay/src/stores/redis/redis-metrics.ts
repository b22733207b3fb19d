import type { Command } from 'ioredis';
import type { Metrics } from '../../ports/metrics.js';
import type { RedisClient } from './redis-client.js';

/** Redis answers in well under a millisecond on a LAN; COMMAND_TIMEOUT_MS (1 s) is the ceiling. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Times every command the store's client sends and counts the failed ones, by command name
 * (a bounded set: the commands and scripts the store uses). It wraps the client's `sendCommand`,
 * which both a standalone client and a Redis Cluster route every command through (once per
 * command on a Cluster, whichever node answers); commands sent before this runs (the connect's
 * own) are not counted. Connection errors are counted from the client's 'error' events.
 */
export function instrumentRedis(client: RedisClient, metrics: Metrics): void {
  const latency = metrics.histogram({ name: 'tether_redis_command_seconds', help: 'Time from a Redis command being sent to its answer (or failure), by command', labelNames: ['command'], buckets: BUCKETS });
  const errors = metrics.counter({ name: 'tether_redis_command_errors_total', help: 'Redis commands that failed (an error reply, a timeout, no connection), by command', labelNames: ['command'] });
  const connectionErrors = metrics.counter({ name: 'tether_redis_connection_errors_total', help: "Errors of the store's Redis connection (it reconnects by itself meanwhile)" });
  client.on('error', () => connectionErrors.inc());
  const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  (client as { sendCommand: typeof send }).sendCommand = (command: Command, ...rest: unknown[]): unknown => {
    const started = performance.now();
    const result = send(command, ...rest);
    const labels = { command: command.name };
    command.promise.then(
      () => latency.observe((performance.now() - started) / 1000, labels),
      () => {
        latency.observe((performance.now() - started) / 1000, labels);
        errors.inc(labels);
      },
    );
    return result;
  };
}
