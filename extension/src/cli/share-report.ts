import { ErrorCode, type TetherError } from '@tether/shared';
import type { HostAgent, PoolState } from '../core/index.js';
import { info } from './output.js';

/** Repeats of one kind of refused connection are summed up at most this often. */
const REFUSED_EVERY_MS = 10_000;

/**
 * What `tether share` tells the person running it, one line each: every failed attempt to
 * reach a relay with the next retry, every relay it is back on, and connections that the target
 * refused (at most one line per REFUSED_EVERY_MS, with how many).
 */
export function reportShare(agent: HostAgent, target: { host: string; port: number }, named: boolean, now: () => number = Date.now): void {
  const where = (url: string): string => (named ? ` ${url}` : '');
  let sharing = false;
  const wasDown = new Set<string>();
  const shown = new Map<string, string>();
  agent.on('ready', () => {
    sharing = true;
  });
  agent.on('state', (state: PoolState) => {
    const at = now();
    for (const e of state.endpoints) {
      if (e.state === 'up' && wasDown.delete(e.url)) {
        shown.delete(e.url);
        info(`reconnected to relay${where(e.url)}: sharing again`);
        continue;
      }
      if ((e.state !== 'down' && e.state !== 'failed') || !e.lastError || e.retryInMs === undefined) continue;
      wasDown.add(e.url);
      // The retry's due time tells one failure from the next.
      const key = `${e.lastError.code}|${e.lastError.message}|${Math.round((at + e.retryInMs) / 250)}`;
      if (shown.get(e.url) === key) continue;
      shown.set(e.url, key);
      const what = sharing ? `disconnected from relay${where(e.url)}` : `cannot reach relay${where(e.url)} yet`;
      info(`${what}: ${e.lastError.message} [${e.lastError.code}]; retrying in ${(e.retryInMs / 1000).toFixed(1)} s`);
    }
  });

  let refusedSince = 0;
  let refusedMore = 0;
  agent.on('streamClosed', (_id, err: TetherError | undefined) => {
    if (!err || (err.code !== ErrorCode.TARGET_REFUSED && err.code !== ErrorCode.TARGET_UNREACHABLE)) return;
    const at = now();
    if (at - refusedSince < REFUSED_EVERY_MS) {
      refusedMore++;
      return;
    }
    const more = refusedMore > 0 ? ` (and ${refusedMore} more since the last line)` : '';
    refusedSince = at;
    refusedMore = 0;
    const hint = err.code === ErrorCode.TARGET_REFUSED
      ? `nothing listens on ${target.host}:${target.port}: start the service there, or share the right port with --target`
      : `check that ${target.host}:${target.port} is the service you meant (--target)`;
    info(`a connection through the tunnel failed: ${err.message}${more}; ${hint} [${err.code}]`);
  });
}
