import { checkUserName, createError, ErrorCode, isErrorCode, retryAfterHeaderMs, retryAfterOf, type SessionView, type TetherError } from '@tether/shared';
import { describeConnectError, describeForeignAnswer, type Asked } from './connect-error.js';
import { parseRelayUrl } from './relay-url.js';
import type {
  AcceptedInvite, AccessRequestInfo, AccessRequestOptions, CallerRole, CreatedInvite, InviteInfo, InviteOptions, MemberInfo, MemberList, TunnelRole, TunnelSettings,
} from './sharing-types.js';

export interface TunnelInfo {
  name: string;
  owner: string;
  online: boolean;
  createdAt: string;
  lastHostedAt: string | null;
  /** A relay cluster: the URLs of the nodes serving the tunnel now (no hop between nodes through them). */
  servedBy?: string[];
  /** The caller's role on it (relays before sharing leave it out). */
  role?: CallerRole;
}

/**
 * Reads a relay's `{ code, message }` error body into a TetherError; any other answer means
 * something that is not a relay answered what was `asked` (see describeForeignAnswer).
 */
export function errorFromBody(status: number, body: string, asked: Asked, retryAfter?: string | string[] | null): TetherError {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (isErrorCode(parsed.code)) {
      const err = createError(parsed.code, typeof parsed.message === 'string' ? parsed.message : parsed.code);
      // A rate limit says when to come back: the header, else the message's own "(retry in S s)".
      if (err.code === ErrorCode.RATE_LIMITED) err.retryAfterMs = retryAfterHeaderMs(retryAfter ?? undefined) ?? retryAfterOf(err.message);
      return err;
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

/** A path segment: tunnel and user names, ids. */
const seg = encodeURIComponent;

/** A user as the admin lists it. */
export interface UserInfo {
  name: string;
  createdAt: string;
  role?: 'admin' | 'member';
  blockedAt?: string | null;
}

/** One stream as the relay admin sees it (docs/admin-api.md): the relay's own type. */
export type SessionInfo = SessionView;

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
    if (!response.ok) throw errorFromBody(response.status, text, asked, response.headers.get('retry-after'));
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // Something that is not a relay (a web server, a captive portal) answered 200.
      throw describeForeignAnswer(response.status, text, asked);
    }
  }

  /**
   * A GET whose answer is read as a stream (the audit export): the timeout covers the answer's
   * headers only, so a long body takes as long as it takes; an answer that is not `contentType`
   * came from something that is not a relay.
   */
  async stream(path: string, contentType: string): Promise<ReadableStream<Uint8Array>> {
    const asked: Asked = { url: this.base, request: `GET ${path}` };
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { headers: { authorization: `Bearer ${this.token}` }, signal: abort.signal });
    } catch (err) {
      throw describeConnectError(err, this.base, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (response.ok && response.body && (response.headers.get('content-type') ?? '').startsWith(contentType)) return response.body;
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw describeConnectError(err, this.base, this.timeoutMs);
    }
    throw response.ok ? describeForeignAnswer(response.status, text, asked) : errorFromBody(response.status, text, asked, response.headers.get('retry-after'));
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
  /** Empties the tunnel's HTTP cache on every relay node; resolves the entries dropped on the node asked. */
  async purgeTunnelCache(name: string): Promise<number> {
    return (await this.request<{ purged: number }>('DELETE', `/v1/tunnels/${encodeURIComponent(name)}/cache`)).purged;
  }
  async createUser(name: string): Promise<{ name: string; token: string; createdAt: string }> {
    return this.request('POST', '/v1/users', { name: userName(name) });
  }
  async users(): Promise<UserInfo[]> {
    return (await this.request<{ users: UserInfo[] }>('GET', '/v1/users')).users;
  }
  /** Blocks a user on the relay (its token is refused, its connections close) or unblocks it (admin). */
  setUserBlocked(name: string, blocked: boolean): Promise<UserInfo> {
    return this.request(blocked ? 'PUT' : 'DELETE', `/v1/users/${encodeURIComponent(userName(name))}/block`);
  }
  /** Makes a user an admin of the relay, or a member again (admin). */
  setUserRole(name: string, role: 'admin' | 'member'): Promise<UserInfo> {
    return this.request('PUT', `/v1/users/${encodeURIComponent(userName(name))}/role`, { role });
  }
  /** Disables a tunnel on every relay node (`reason` shown to its users), or enables it (null) (admin). */
  setTunnelDisabled(name: string, reason: string | null): Promise<{ name: string; disabled: boolean; disabledReason: string | null }> {
    return reason === null
      ? this.request('DELETE', `/v1/tunnels/${encodeURIComponent(name)}/disabled`)
      : this.request('PUT', `/v1/tunnels/${encodeURIComponent(name)}/disabled`, reason === '' ? {} : { reason });
  }
  /** The streams of every relay node (admin): one row each, newest first. */
  async sessions(filter: { tunnel?: string; user?: string; limit?: number } = {}): Promise<{ total: number; sessions: SessionInfo[]; unreachable: { node: string; error: string }[] }> {
    const query = new URLSearchParams();
    if (filter.tunnel) query.set('tunnel', filter.tunnel);
    if (filter.user) query.set('user', filter.user);
    query.set('limit', String(filter.limit ?? 500));
    return this.request('GET', `/v1/admin/sessions?${query.toString()}`);
  }
  /** Ends one stream (a session id from sessions()) on whichever node it is (admin). */
  async endSession(id: string): Promise<void> {
    await this.request('DELETE', `/v1/admin/sessions/${encodeURIComponent(id)}`);
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

  // --- sharing a tunnel (owner and admins; requests and invites: anyone) ---

  members(tunnel: string): Promise<MemberList> {
    return this.request('GET', `/v1/tunnels/${seg(tunnel)}/members`);
  }
  /** Gives `user` a role on the tunnel, or changes it; `expiresAt` null: until removed. */
  setMember(tunnel: string, user: string, role: TunnelRole, expiresAt: string | null = null): Promise<MemberInfo> {
    return this.request('PUT', `/v1/tunnels/${seg(tunnel)}/members/${seg(user)}`, { role, expiresAt });
  }
  /** Takes the member's role away; its open streams to the tunnel are reset at once. */
  async removeMember(tunnel: string, user: string): Promise<void> {
    await this.request('DELETE', `/v1/tunnels/${seg(tunnel)}/members/${seg(user)}`);
  }
  /** Blocks (beats every role and every later invite) or unblocks `user` on the tunnel. */
  blockMember(tunnel: string, user: string, blocked: boolean): Promise<MemberInfo> {
    return this.request(blocked ? 'PUT' : 'DELETE', `/v1/tunnels/${seg(tunnel)}/members/${seg(user)}/block`);
  }
  tunnelSettings(tunnel: string): Promise<TunnelSettings> {
    return this.request('GET', `/v1/tunnels/${seg(tunnel)}/settings`);
  }
  /** Changes the settings given, keeps the others; resolves with all of them. */
  updateTunnelSettings(tunnel: string, patch: Partial<TunnelSettings>): Promise<TunnelSettings> {
    return this.request('PATCH', `/v1/tunnels/${seg(tunnel)}/settings`, patch);
  }
  createInvite(tunnel: string, options: InviteOptions = {}): Promise<CreatedInvite> {
    return this.request('POST', `/v1/tunnels/${seg(tunnel)}/invites`, options);
  }
  async invites(tunnel: string): Promise<InviteInfo[]> {
    return (await this.request<{ invites: InviteInfo[] }>('GET', `/v1/tunnels/${seg(tunnel)}/invites`)).invites;
  }
  async revokeInvite(id: string): Promise<void> {
    await this.request('DELETE', `/v1/invites/${seg(id)}`);
  }
  /** Access now, or (on a tunnel that requires approval) an access request to wait for. */
  acceptInvite(code: string): Promise<AcceptedInvite> {
    return this.request('POST', '/v1/invites/accept', { code: code.trim() });
  }
  requestAccess(tunnel: string, options: AccessRequestOptions = {}): Promise<AccessRequestInfo> {
    return this.request('POST', `/v1/tunnels/${seg(tunnel)}/requests`, options);
  }
  /** The caller's own requests and those it may review, newest first. */
  async accessRequests(pendingOnly = false): Promise<AccessRequestInfo[]> {
    return (await this.request<{ requests: AccessRequestInfo[] }>('GET', `/v1/requests${pendingOnly ? '?pending=true' : ''}`)).requests;
  }
  /** Approves or denies; the relay takes `{}` when there is no reason (its schema allows no null). */
  reviewRequest(id: string, decision: 'approve' | 'deny', reason?: string): Promise<AccessRequestInfo> {
    return this.request('POST', `/v1/requests/${seg(id)}/${decision}`, reason === undefined ? {} : { reason });
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
