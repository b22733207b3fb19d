import { checkUserName, createError, isErrorCode, type TetherError } from '@tether/shared';
import { describeConnectError, describeForeignAnswer, type Asked } from './connect-error.js';
import { parseRelayUrl } from './relay-url.js';

export interface TunnelInfo {
  name: string;
  owner: string;
  online: boolean;
  createdAt: string;
  lastHostedAt: string | null;
  /** A relay cluster: the URLs of the nodes serving the tunnel now (no hop between nodes through them). */
  servedBy?: string[];
}

/**
 * Reads a relay's `{ code, message }` error body into a TetherError; any other answer means
 * something that is not a relay answered what was `asked` (see describeForeignAnswer).
 */
export function errorFromBody(status: number, body: string, asked: Asked): TetherError {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (isErrorCode(parsed.code)) {
      return createError(parsed.code, typeof parsed.message === 'string' ? parsed.message : parsed.code);
    }
  } catch {
    // not JSON: fall through
  }
  return describeForeignAnswer(status, body, asked);
}

/** Checks a user name before it is sent: the same rule and sentence as the relay's. */
function userName(name: string): string {
  const invalid = checkUserName(name);
  if (invalid) throw invalid;
  return name;
}

/** The relay's HTTP API, with coded errors. */
export class RelayApi {
  readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(relay: string, token: string, timeoutMs = 10_000) {
    this.base = parseRelayUrl(relay).http;
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw describeConnectError(err, this.base, this.timeoutMs);
    }
    const asked: Asked = { url: this.base, request: `${method} ${path}` };
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw describeConnectError(err, this.base, this.timeoutMs);
    }
    if (!response.ok) throw errorFromBody(response.status, text, asked);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // Something that is not a relay (a web server, a captive portal) answered 200.
      throw describeForeignAnswer(response.status, text, asked);
    }
  }

  whoami(): Promise<{ name: string; admin: boolean }> {
    return this.request('GET', '/v1/whoami');
  }
  tunnel(name: string): Promise<TunnelInfo> {
    return this.request('GET', `/v1/tunnels/${encodeURIComponent(name)}`);
  }
  async tunnels(): Promise<TunnelInfo[]> {
    return (await this.request<{ tunnels: TunnelInfo[] }>('GET', '/v1/tunnels')).tunnels;
  }
  /** Releases a tunnel name you own (the admin: anyone's); refused while it is being shared. */
  async deleteTunnel(name: string): Promise<void> {
    await this.request('DELETE', `/v1/tunnels/${encodeURIComponent(name)}`);
  }
  async createUser(name: string): Promise<{ name: string; token: string; createdAt: string }> {
    return this.request('POST', '/v1/users', { name: userName(name) });
  }
  async users(): Promise<{ name: string; createdAt: string }[]> {
    return (await this.request<{ users: { name: string; createdAt: string }[] }>('GET', '/v1/users')).users;
  }
  async rotateUserToken(name: string): Promise<{ name: string; token: string }> {
    return this.request('POST', `/v1/users/${encodeURIComponent(userName(name))}/token`);
  }
  async deleteUser(name: string): Promise<void> {
    await this.request('DELETE', `/v1/users/${encodeURIComponent(userName(name))}`);
  }
  /** The live nodes of a relay cluster (admin); a single relay answers TETHER_ERR_NOT_FOUND. */
  async clusterNodes(): Promise<ClusterNode[]> {
    return (await this.request<{ nodes: ClusterNode[] }>('GET', '/v1/cluster/nodes')).nodes;
  }
}

/** One live relay node, from its last heartbeat. */
export interface ClusterNode {
  id: string;
  advertise: string;
  version: string;
  startedAt: string;
  links: number;
  streams: number;
  /** Milliseconds since its last heartbeat reached Redis. */
  ageMs: number;
}
