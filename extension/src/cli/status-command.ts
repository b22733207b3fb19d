import { createError, ErrorCode, type TetherError } from '@tether/shared';
import { describePoolReason, formatRtt, RelayPool, webSocketFactory, type PoolState } from '../core/index.js';
import type { ClientValues } from './flags.js';
import { relayEndpointsAndToken } from './options.js';

/** How long `tether status` waits for every endpoint to answer (or fail) once. */
const SETTLE_MS = 5000;

const settled = (state: PoolState): boolean => state.endpoints.every((e) => e.state !== 'connecting' && e.state !== 'idle');
const measured = (state: PoolState): boolean => state.endpoints.every((e) => e.state !== 'up' || e.rttMs > 0);

/** Resolves once `check(state)` holds, or after `ms` (or when start() failed, which ends the pool). */
function until(pool: RelayPool, check: (state: PoolState) => boolean, ms: number): Promise<void> {
  if (check(pool.state())) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pool.off('state', onState);
      resolve();
    };
    const onState = (state: PoolState): void => {
      if (check(state)) done();
    };
    const timer = setTimeout(done, ms);
    pool.on('state', onState);
  });
}

/** The pool's state as `--json` prints it: the reason in words, as people and scripts read it. */
export type PoolStateJson = Omit<PoolState, 'reason'> & { reason: string };

export function poolStateJson(state: PoolState): PoolStateJson {
  return { ...state, reason: describePoolReason(state.reason) };
}

/** The pool's state as a table, for people. */
function formatPoolState(state: PoolState, now = Date.now()): string {
  const lines = [
    state.active === undefined
      ? `active: none (${describePoolReason(state.reason)})`
      : `active: ${state.active} (${describePoolReason(state.reason)}, since ${new Date(state.since).toISOString()})`,
  ];
  const rows = state.endpoints.map((e) => {
    const error = e.lastError ? `${e.lastError.message} [${e.lastError.code}]` : '';
    const retry = e.retryInMs === undefined ? '' : `retry in ${(e.retryInMs / 1000).toFixed(1)} s`;
    return [e.url, String(e.priority), String(e.weight), e.state, formatRtt(e.rttMs) ?? '-', `${Math.round((now - e.since) / 1000)} s`, [error, retry].filter(Boolean).join('; ')];
  });
  const header = ['ENDPOINT', 'PRIORITY', 'WEIGHT', 'STATE', 'RTT', 'FOR', 'LAST ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) lines.push(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
  return `${lines.join('\n')}\n`;
}

/**
 * `tether status [--relay URL ...] [--token T] [--watch] [--json]`: connects to every relay
 * endpoint, prints which one new streams would use and why, and each endpoint's health. Exit
 * code 0 when at least one endpoint is up.
 */
export async function statusCommand(values: ClientValues & { watch?: boolean; json?: boolean }): Promise<number> {
  const { endpoints, token } = relayEndpointsAndToken(values);
  const print = (state: PoolState): void => {
    process.stdout.write(values.json ? `${JSON.stringify(poolStateJson(state))}\n` : formatPoolState(state));
  };
  const pool = new RelayPool({
    kind: 'connect',
    endpoints,
    // Status looks at every endpoint, not just the ones a client would keep open.
    size: endpoints.length,
    factory: webSocketFactory({ relay: endpoints[0].url, token, handshakeTimeoutMs: SETTLE_MS }),
    // A first retry no sooner than 2 s keeps the snapshot showing how each endpoint's first
    // attempt went (not a retry in progress); --watch then follows the retries.
    backoff: { baseMs: 4000 },
  });
  let startError: TetherError | undefined;
  pool.start().catch((err: TetherError) => {
    startError = err;
  });
  await until(pool, settled, SETTLE_MS);
  await until(pool, measured, 1000);
  const state = pool.state();
  print(state);
  if (values.watch && state.live > 0) {
    pool.on('state', (next) => {
      if (!values.json) process.stdout.write('\n');
      print(next);
    });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    pool.close();
    return 0;
  }
  pool.close();
  if (state.live > 0) return 0;
  // Not one endpoint is up: say why, the way every other command fails.
  throw startError ?? createError(ErrorCode.NO_RELAY, `no relay answered within ${SETTLE_MS} ms (tried: ${endpoints.map((e) => e.url).join(', ')})`);
}
