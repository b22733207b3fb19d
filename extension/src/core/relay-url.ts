import { createError, ErrorCode } from '@tether/shared';

export interface RelayUrls {
  /** http(s)://host:port with no trailing slash, for the HTTP API. */
  http: string;
  /** ws(s)://host:port, for the WebSocket endpoints. */
  ws: string;
}

/** A relay scheme followed by anything but `://` (`http:/host`, `https:host`, `ws//host`). */
const MANGLED_SCHEME = /^(https?|wss?)(:?)(\/*)/i;

/**
 * Accepts the URL `tether relay` prints (http/https) or its WebSocket form (ws/wss), with or
 * without the scheme, and returns both. A relay is addressed as scheme://HOST:PORT: anything
 * after the port but a trailing slash is refused (the relay serves its API at the root, so a path
 * would only turn every request into a 404), as is a mangled scheme (`http:/host` would
 * otherwise read as a host named "http"). Anything else is an INVALID_ARGUMENT naming the problem.
 */
export function parseRelayUrl(input: string): RelayUrls {
  const shown = JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input);
  const mangled = MANGLED_SCHEME.exec(input);
  if (mangled && (mangled[2] || mangled[3]) && !(mangled[2] === ':' && mangled[3] === '//')) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `relay URL ${shown} is malformed: write it as ${mangled[1].toLowerCase()}://HOST:PORT`);
  }
  let url: URL;
  try {
    url = new URL(input.includes('://') ? input : `http://${input}`);
  } catch {
    const scheme = /^(https?|wss?):\/\//i.exec(input)?.[1].toLowerCase() ?? 'http';
    throw createError(ErrorCode.INVALID_ARGUMENT, `relay URL ${shown} is malformed: write it as ${scheme}://HOST:PORT`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `relay URL ${shown} has the scheme ${url.protocol.slice(0, -1)}: use http://, https://, ws:// or wss://`);
  }
  if (url.username || url.password) {
    throw createError(ErrorCode.INVALID_ARGUMENT, 'the relay URL must not carry a user name or password: give the token on its own (--token or TETHER_TOKEN for the CLI, the token box in VS Code)');
  }
  const rest = `${url.pathname.replace(/^\/+$/, '')}${url.search}${url.hash}`;
  if (rest !== '') {
    const scheme = url.protocol.slice(0, -1);
    throw createError(ErrorCode.INVALID_ARGUMENT, `relay URL ${shown} has a path (${rest}): a relay is addressed as ${scheme}://HOST:PORT, with nothing after the port`);
  }
  return { http: `${secure ? 'https' : 'http'}://${url.host}`, ws: `${secure ? 'wss' : 'ws'}://${url.host}` };
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
