import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './output.js';

export const DEFAULT_RELAY = 'http://127.0.0.1:8080';

export const clientOptions = {
  relay: { type: 'string' },
  token: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type ParsedValues<O> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };

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

/** --relay/--token with TETHER_RELAY/TETHER_TOKEN as defaults. */
export function relayAndToken(values: { relay?: string; token?: string }): { relay: string; token: string } {
  const relay = values.relay ?? process.env.TETHER_RELAY ?? DEFAULT_RELAY;
  const token = values.token ?? process.env.TETHER_TOKEN;
  if (!token) throw new UsageError('no token: pass --token TOKEN or set TETHER_TOKEN');
  return { relay, token };
}

export function requirePositional(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}
