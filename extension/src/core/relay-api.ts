import { createError, ErrorCode, isErrorCode, isTetherError, type TetherError } from '@tether/shared';
import { parseRelayUrl } from './relay-url.js';

export interface TunnelInfo {
  name: string;
  owner: string;
  online: boolean;
  createdAt: string;
  lastHostedAt: string | null;
}

/** Turns a failed fetch into RELAY_UNREACHABLE with the underlying cause. */
export function unreachable(url: string, err: unknown): TetherError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return createError(ErrorCode.RELAY_UNREACHABLE, `cannot reach relay at ${url}: ${why}`);
}

/** Reads a `{ code, message }` error body into a TetherError. */
export function errorFromBody(status: number, body: string): TetherError {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (isErrorCode(parsed.code)) {
      return createError(parsed.code, typeof parsed.message === 'string' ? parsed.message : parsed.code);
    }
  } catch {
    // not JSON: fall through
  }
  if (status === 401) return createError(ErrorCode.UNAUTHORIZED, 'the relay refused the token');
  return createError(ErrorCode.RELAY_REJECTED, `relay answered HTTP ${status}`);
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
      if (isTetherError(err)) throw err;
      throw unreachable(this.base, err);
    }
    const text = await response.text();
    if (!response.ok) throw errorFromBody(response.status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // Something that is not a relay (a web server, a captive portal) answered 200.
      throw createError(ErrorCode.RELAY_REJECTED, `${this.base} answered ${method} ${path} with something that is not JSON`);
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
  createUser(name: string): Promise<{ name: string; token: string; createdAt: string }> {
    return this.request('POST', '/v1/users', { name });
  }
  async users(): Promise<{ name: string; createdAt: string }[]> {
    return (await this.request<{ users: { name: string; createdAt: string }[] }>('GET', '/v1/users')).users;
  }
  rotateUserToken(name: string): Promise<{ name: string; token: string }> {
    return this.request('POST', `/v1/users/${encodeURIComponent(name)}/token`);
  }
  async deleteUser(name: string): Promise<void> {
    await this.request('DELETE', `/v1/users/${encodeURIComponent(name)}`);
  }
}
