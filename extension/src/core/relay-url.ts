import { createError, ErrorCode } from '@tether/shared';

export interface RelayUrls {
  /** http(s)://host:port with no trailing slash, for the HTTP API. */
  http: string;
  /** ws(s)://host:port, for the WebSocket endpoints. */
  ws: string;
}

/**
 * Accepts the URL `tether relay` prints (http/https) or its WebSocket form (ws/wss) and
 * returns both. Anything else is an INVALID_ARGUMENT naming the problem.
 */
export function parseRelayUrl(input: string): RelayUrls {
  let url: URL;
  try {
    url = new URL(input.includes('://') ? input : `http://${input}`);
  } catch {
    throw createError(ErrorCode.INVALID_ARGUMENT, `invalid relay URL ${JSON.stringify(input)}`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `relay URL must be http(s) or ws(s), got ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw createError(ErrorCode.INVALID_ARGUMENT, 'put the token in --token or TETHER_TOKEN, not in the relay URL');
  }
  const path = url.pathname.replace(/\/+$/, '');
  const hostPort = `${url.host}${path}`;
  return { http: `${secure ? 'https' : 'http'}://${hostPort}`, ws: `${secure ? 'wss' : 'ws'}://${hostPort}` };
}

/** Parses HOST:PORT (or [v6]:PORT, or just PORT with `defaultHost`); `minPort` 0 lets a listener ask for any free port. */
export function parseHostPort(input: string, defaultHost = '127.0.0.1', minPort = 1): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(input) ?? /^()()(\d{1,5})$/.exec(input);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < minPort || port > 65535) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `expected HOST:PORT with a port from ${minPort} to 65535, got ${JSON.stringify(input)}`);
  }
  return { host: m[1] || m[2] || defaultHost, port };
}
