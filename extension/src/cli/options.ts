import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ResumableOptions } from '@tether/shared';
import { parseEndpoints, type RelayEndpoint, type RelayPoolOptions } from '../core/index.js';
import { UsageError } from './output.js';

export const DEFAULT_RELAY = 'http://127.0.0.1:8080';

/** --relay (repeatable: one endpoint each, `URL[,priority=N][,weight=N]`) and --token. */
export const clientOptions = {
  relay: { type: 'string', multiple: true },
  token: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Tuning of the relay pool (share, connect). */
export const poolFlags = {
  pool: { type: 'string' },
  'detect-ms': { type: 'string' },
  'failback-ms': { type: 'string' },
  'queue-timeout-ms': { type: 'string' },
  'replay-buffer': { type: 'string' },
  'resume-timeout-ms': { type: 'string' },
  'no-resume': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type ParsedValue<T> = T extends { type: 'boolean' } ? (T extends { multiple: true } ? boolean[] : boolean) : T extends { multiple: true } ? string[] : string;
type ParsedValues<O> = { [K in keyof O]?: ParsedValue<O[K]> };

/** parseArgs with usage errors instead of exceptions with Node's wording. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  positionals: number,
): { values: ParsedValues<O>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

function requireToken(values: { token?: string }): string {
  const token = values.token ?? process.env.TETHER_TOKEN;
  if (!token) throw new UsageError('no token: pass --token TOKEN or set TETHER_TOKEN');
  return token;
}

/**
 * Every --relay given, else TETHER_RELAY (one endpoint or several separated by whitespace),
 * else the default relay; parsed as endpoints (INVALID_ARGUMENT on a bad one or a duplicate).
 */
export function relayEndpointsAndToken(values: { relay?: string | string[]; token?: string }): { endpoints: RelayEndpoint[]; token: string } {
  const token = requireToken(values);
  const given = values.relay === undefined ? [] : [values.relay].flat();
  const specs = given.length > 0 ? given : (process.env.TETHER_RELAY?.trim().split(/\s+/).filter(Boolean) ?? []);
  return { endpoints: parseEndpoints(specs.length > 0 ? specs : [DEFAULT_RELAY]), token };
}

/** For commands that use one relay: the first endpoint's URL. */
export function relayAndToken(values: { relay?: string | string[]; token?: string }): { relay: string; token: string } {
  const { endpoints, token } = relayEndpointsAndToken(values);
  return { relay: endpoints[0].url, token };
}

function positiveInteger(values: Record<string, unknown>, flag: string, min: number): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min)) throw new UsageError(`--${flag} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** --pool, --detect-ms, --failback-ms and --queue-timeout-ms as RelayPool options (unset ones left out). */
export function poolOptions(values: { [K in keyof typeof poolFlags]?: string | boolean }): Pick<RelayPoolOptions, 'size' | 'detectMs' | 'failbackDelayMs' | 'queueTimeoutMs'> {
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
export function resumableOptions(values: { [K in keyof typeof poolFlags]?: string | boolean }): ResumableOptions | false {
  if (values['no-resume'] === true) return false;
  const options: ResumableOptions = {};
  const replay = positiveInteger(values, 'replay-buffer', 64 * 1024);
  const timeout = positiveInteger(values, 'resume-timeout-ms', 100);
  if (replay !== undefined) options.replayBufferBytes = replay;
  if (timeout !== undefined) options.resumeTimeoutMs = timeout;
  return options;
}

export function requirePositional(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}
