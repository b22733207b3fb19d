import { MIN_REPLAY_BUFFER_BYTES, type ResumableOptions } from '@tether/shared';
import { parseEndpoints, type RelayEndpoint } from '../core/endpoints.js';
import type { RelayPoolOptions } from '../core/pool-options.js';
import { DEFAULT_RELAY, type ClientValues, type PoolValues } from './flags.js';
import { UsageError } from './output.js';

export { DEFAULT_RELAY };

function requireToken(values: { token?: string }): string {
  const token = values.token ?? process.env.TETHER_TOKEN;
  if (!token) throw new UsageError('no token: pass --token TOKEN or set TETHER_TOKEN');
  return token;
}

/**
 * Every --relay given, else TETHER_RELAY (one endpoint or several separated by whitespace),
 * else the default relay; parsed as endpoints (INVALID_ARGUMENT on a bad one or a duplicate).
 */
export function relayEndpointsAndToken(values: ClientValues): { endpoints: RelayEndpoint[]; token: string } {
  const token = requireToken(values);
  const given = values.relay ?? [];
  const specs = given.length > 0 ? given : (process.env.TETHER_RELAY?.trim().split(/\s+/).filter(Boolean) ?? []);
  return { endpoints: parseEndpoints(specs.length > 0 ? specs : [DEFAULT_RELAY]), token };
}

/** For commands that use one relay: the first endpoint's URL. */
export function relayAndToken(values: ClientValues): { relay: string; token: string } {
  const { endpoints, token } = relayEndpointsAndToken(values);
  return { relay: endpoints[0].url, token };
}

function positiveInteger(values: PoolValues, flag: keyof PoolValues, min: number): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min)) throw new UsageError(`--${flag} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** --pool, --detect-ms, --failback-ms and --queue-timeout-ms as RelayPool options (unset ones left out). */
export function poolOptions(values: PoolValues): Pick<RelayPoolOptions, 'size' | 'detectMs' | 'failbackDelayMs' | 'queueTimeoutMs'> {
  const options: Pick<RelayPoolOptions, 'size' | 'detectMs' | 'failbackDelayMs' | 'queueTimeoutMs'> = {};
  const size = positiveInteger(values, 'pool', 1);
  const detectMs = positiveInteger(values, 'detect-ms', 100);
  const failbackDelayMs = positiveInteger(values, 'failback-ms', 0);
  const queueTimeoutMs = positiveInteger(values, 'queue-timeout-ms', 1);
  if (size !== undefined) options.size = size;
  if (detectMs !== undefined) options.detectMs = detectMs;
  if (failbackDelayMs !== undefined) options.failbackDelayMs = failbackDelayMs;
  if (queueTimeoutMs !== undefined) options.queueTimeoutMs = queueTimeoutMs;
  return options;
}

/** --replay-buffer BYTES and --resume-timeout-ms N as resumable-stream options; --no-resume: plain streams. */
export function resumableOptions(values: PoolValues): ResumableOptions | false {
  if (values['no-resume'] === true) return false;
  const options: ResumableOptions = {};
  const replay = positiveInteger(values, 'replay-buffer', MIN_REPLAY_BUFFER_BYTES);
  const timeout = positiveInteger(values, 'resume-timeout-ms', 100);
  if (replay !== undefined) options.replayBufferBytes = replay;
  if (timeout !== undefined) options.resumeTimeoutMs = timeout;
  return options;
}
