import { createError, ErrorCode } from '@tether/shared';
import { parseRelayUrl } from './relay-url.js';

/** One relay a client may use, and how much it prefers it. */
export interface RelayEndpoint {
  /** The relay's http(s) URL, normalised by `parseRelayUrl`. */
  url: string;
  /** Lower is preferred; endpoints of equal priority share the load by weight. */
  priority: number;
  /** Share of new streams among endpoints of equal priority (an integer ≥ 1). */
  weight: number;
}

const MAX_NUMBER = 1_000_000;

function integerOption(spec: string, name: string, raw: string, min: number): number {
  const value = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(value) || value < min || value > MAX_NUMBER) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `relay ${JSON.stringify(spec)}: ${name} must be an integer from ${min} to ${MAX_NUMBER}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * Parses `URL[,priority=N][,weight=N]`. Without `priority` the endpoint's place in the list
 * (`index`) is its priority, so the order given is the order of preference.
 */
export function parseEndpoint(spec: string, index: number): RelayEndpoint {
  const [rawUrl, ...options] = spec.trim().split(',');
  if (rawUrl.trim() === '') throw createError(ErrorCode.INVALID_ARGUMENT, `relay ${JSON.stringify(spec)}: missing URL`);
  const endpoint: RelayEndpoint = { url: parseRelayUrl(rawUrl.trim()).http, priority: index, weight: 1 };
  const seen = new Set<string>();
  for (const option of options) {
    const m = /^\s*([a-z]+)\s*=\s*(\S*)\s*$/.exec(option);
    const name = m?.[1];
    if (!m || (name !== 'priority' && name !== 'weight')) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `relay ${JSON.stringify(spec)}: expected priority=N or weight=N after the URL, got ${JSON.stringify(option.trim())}`);
    }
    if (seen.has(name)) throw createError(ErrorCode.INVALID_ARGUMENT, `relay ${JSON.stringify(spec)}: ${name} given twice`);
    seen.add(name);
    if (name === 'priority') endpoint.priority = integerOption(spec, name, m[2], 0);
    else endpoint.weight = integerOption(spec, name, m[2], 1);
  }
  return endpoint;
}

/** Parses a non-empty list of endpoint specs; the same relay twice is refused. */
export function parseEndpoints(specs: readonly string[]): RelayEndpoint[] {
  if (specs.length === 0) throw createError(ErrorCode.INVALID_ARGUMENT, 'no relay given');
  const endpoints: RelayEndpoint[] = [];
  for (const [index, spec] of specs.entries()) {
    const endpoint = parseEndpoint(spec, index);
    if (endpoints.some((e) => e.url === endpoint.url)) {
      throw createError(ErrorCode.INVALID_ARGUMENT, `relay ${endpoint.url} is listed twice`);
    }
    endpoints.push(endpoint);
  }
  return endpoints;
}

/**
 * The endpoints with those that serve the tunnel themselves (`servedBy`, from a cluster's tunnel
 * status) preferred over the rest: a stream through such a node needs no hop between nodes. The
 * others keep their order and weights behind them, for failover. Unchanged when none matches.
 */
export function preferServing(endpoints: readonly RelayEndpoint[], servedBy: readonly string[] | undefined): RelayEndpoint[] {
  const serving = new Set<string>();
  for (const url of servedBy ?? []) {
    try {
      serving.add(parseRelayUrl(url).http);
    } catch {
      // Not a URL this client can use: no hint.
    }
  }
  if (!endpoints.some((e) => serving.has(e.url))) return [...endpoints];
  const best = Math.min(...endpoints.map((e) => e.priority));
  return endpoints.map((e) => (serving.has(e.url) ? { ...e, priority: best - 1 } : { ...e }));
}
