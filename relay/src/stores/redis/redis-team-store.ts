import { randomBytes } from 'node:crypto';
import { createError, ErrorCode } from '@tether/shared';
import {
  DEFAULT_TUNNEL_SETTINGS,
  type AccessRequestInput,
  type AccessRequestRecord,
  type AccessReview,
  type GrantInput,
  type GrantRecord,
  type InviteInput,
  type InviteRecord,
  type InviteRefusal,
  type ReviewOutcome,
  type TeamStore,
  type TunnelSettings,
} from '../../ports/team-store.js';
import { addMs, byTunnel, byUserName, displayName, newestFirst } from '../team-common.js';
import { directoryKeys, type DirectoryKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { callRedis } from './redis-errors.js';
import * as lua from './team-scripts.js';

type StoredGrant = Omit<GrantRecord, 'userName'>;
type StoredInvite = InviteRecord & { seq: number };
/** `reviews` may come back as `{}` from cjson when empty. */
type StoredRequest = Omit<AccessRequestRecord, 'userName' | 'reviews'> & { seq: number; reviews: AccessReview[] | Record<string, never> };
type Created = [string, string?];

/** The team scripts, once defined on the client (see RedisStore's Scripts). */
interface TeamScripts {
  tetherPutGrant(tunnels: string, userIds: string, grants: string, userGrants: string, tunnel: string, userId: string, grant: string): Promise<Created>;
  tetherDeleteGrant(grants: string, userGrants: string, tunnel: string, userId: string): Promise<number>;
  tetherGrantsOfUser(userGrants: string, base: string, userId: string): Promise<string[]>;
  tetherCreateRecord(...args: string[]): Promise<Created>;
  tetherRevokeInvite(invites: string, id: string): Promise<number>;
  tetherUseInvite(invites: string, id: string, userId: string, now: string): Promise<Created>;
  tetherReviewRequest(requests: string, userIds: string, ...argv: string[]): Promise<Created>;
  tetherSetSettings(tunnels: string, settings: string, tunnel: string, json: string): Promise<number>;
}

const TEAM_SCRIPTS: [keyof TeamScripts, string, number][] = [
  ['tetherPutGrant', lua.PUT_GRANT, 4],
  ['tetherDeleteGrant', lua.DELETE_GRANT, 2],
  ['tetherGrantsOfUser', lua.GRANTS_OF_USER, 1],
  ['tetherRevokeInvite', lua.REVOKE_INVITE, 1],
  ['tetherUseInvite', lua.USE_INVITE, 1],
  ['tetherReviewRequest', lua.REVIEW_REQUEST, 2],
  ['tetherSetSettings', lua.SET_SETTINGS, 2],
];

/** Reviews retry this often when the request changed under them (see REVIEW_REQUEST's 'stale'). */
const MAX_ATTEMPTS = 5;

const toInvite = ({ seq: _seq, ...invite }: StoredInvite): InviteRecord => invite;

/**
 * The team half of the Redis store (grants, invites, access requests, settings, secrets), kept
 * apart from users and tunnels so each file stays readable; `RedisStore` extends it. Records
 * are JSON in hashes under the `{dir}` tag (keys.ts), so every change that reads and writes
 * (a use of an invite, a review, a grant on a tunnel that must exist) is one atomic Lua script
 * (team-scripts.ts). User names are looked up at read time, as SQLite's join does.
 */
export class RedisTeamStore implements TeamStore {
  protected readonly keys: DirectoryKeys;
  private readonly team: TeamScripts;

  constructor(readonly client: RedisClient, readonly prefix: string) {
    this.keys = directoryKeys(prefix);
    for (const [name, script, numberOfKeys] of TEAM_SCRIPTS) client.defineCommand(name, { lua: script, numberOfKeys });
    // Invites take 4 keys, requests 5 (their user's index too): one script, two arities.
    client.defineCommand('tetherCreateRecord', { lua: lua.CREATE_RECORD });
    this.team = client as unknown as TeamScripts;
  }

  getTunnelSettings(tunnel: string): Promise<TunnelSettings | undefined> {
    return callRedis(async () => {
      const [exists, raw] = await Promise.all([this.client.hexists(this.keys.tunnels, tunnel), this.client.hget(this.keys.settings, tunnel)]);
      if (exists === 0) return undefined;
      return raw === null ? { ...DEFAULT_TUNNEL_SETTINGS } : (JSON.parse(raw) as TunnelSettings);
    });
  }

  setTunnelSettings(tunnel: string, settings: TunnelSettings): Promise<boolean> {
    const json = JSON.stringify({ approval: settings.approval, approvals: settings.approvals, maxDurationMs: settings.maxDurationMs });
    return callRedis(async () => (await this.team.tetherSetSettings(this.keys.tunnels, this.keys.settings, tunnel, json)) === 1);
  }

  putGrant(grant: GrantInput): Promise<GrantRecord> {
    return callRedis(async () => {
      const k = this.keys;
      const record: StoredGrant = { ...pickGrant(grant), createdAt: now() };
      const [status, raw] = await this.team.tetherPutGrant(k.tunnels, k.userIds, k.grants(grant.tunnel), k.userGrants(grant.userId), grant.tunnel, String(grant.userId), JSON.stringify(record));
      if (status === 'no-tunnel') throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel ${grant.tunnel}`);
      if (status === 'no-user') throw createError(ErrorCode.INVALID_ARGUMENT, `no user #${grant.userId}`);
      const [stored] = await this.withUserNames([JSON.parse(raw ?? '') as StoredGrant]);
      return stored;
    });
  }

  getGrant(tunnel: string, userId: number): Promise<GrantRecord | undefined> {
    return callRedis(async () => {
      const raw = await this.client.hget(this.keys.grants(tunnel), String(userId));
      if (raw === null) return undefined;
      const [grant] = await this.withUserNames([JSON.parse(raw) as StoredGrant]);
      return grant;
    });
  }

  listGrants(tunnel: string): Promise<GrantRecord[]> {
    return callRedis(async () => {
      const raws = await this.client.hvals(this.keys.grants(tunnel));
      return (await this.withUserNames(raws.map((raw) => JSON.parse(raw) as StoredGrant))).sort(byUserName);
    });
  }

  listGrantsOfUser(userId: number): Promise<GrantRecord[]> {
    return callRedis(async () => {
      const raws = await this.team.tetherGrantsOfUser(this.keys.userGrants(userId), this.keys.base, String(userId));
      return (await this.withUserNames(raws.map((raw) => JSON.parse(raw) as StoredGrant))).sort(byTunnel);
    });
  }

  deleteGrant(tunnel: string, userId: number): Promise<boolean> {
    return callRedis(async () => (await this.team.tetherDeleteGrant(this.keys.grants(tunnel), this.keys.userGrants(userId), tunnel, String(userId))) === 1);
  }

  createInvite(invite: InviteInput): Promise<InviteRecord> {
    return callRedis(async () => {
      const k = this.keys;
      const record: InviteRecord = { ...pickInvite(invite), createdAt: now(), uses: 0, revoked: false };
      const raw = await this.created('invite', invite.tunnel, invite.id, JSON.stringify(record), [k.tunnels, k.invites, k.tunnelInvites(invite.tunnel), k.nextSeq]);
      return toInvite(JSON.parse(raw) as StoredInvite);
    });
  }

  getInvite(id: string): Promise<InviteRecord | undefined> {
    return callRedis(async () => {
      const raw = await this.client.hget(this.keys.invites, id);
      return raw === null ? undefined : toInvite(JSON.parse(raw) as StoredInvite);
    });
  }

  listInvites(tunnel: string): Promise<InviteRecord[]> {
    return callRedis(async () => {
      const raws = await this.recordsOf(this.keys.invites, this.keys.tunnelInvites(tunnel));
      return raws.map((raw) => JSON.parse(raw) as StoredInvite).sort(newestFirst).map(toInvite);
    });
  }

  revokeInvite(id: string): Promise<boolean> {
    return callRedis(async () => (await this.team.tetherRevokeInvite(this.keys.invites, id)) === 1);
  }

  useInvite(id: string, userId: number, at: string): Promise<{ ok: true; invite: InviteRecord } | { ok: false; reason: InviteRefusal }> {
    return callRedis(async () => {
      const [status, raw] = await this.team.tetherUseInvite(this.keys.invites, id, String(userId), at);
      if (status !== 'ok') return { ok: false as const, reason: status as InviteRefusal };
      return { ok: true as const, invite: toInvite(JSON.parse(raw ?? '') as StoredInvite) };
    });
  }

  createAccessRequest(request: AccessRequestInput): Promise<AccessRequestRecord> {
    return callRedis(async () => {
      const k = this.keys;
      const r = request;
      const record = { id: r.id, tunnel: r.tunnel, userId: r.userId, role: r.role, durationMs: r.durationMs, reason: r.reason, createdAt: now(), status: 'pending', reviews: [], grantedUntil: null };
      const keys = [k.tunnels, k.requests, k.tunnelRequests(r.tunnel), k.nextSeq, k.userRequests(r.userId)];
      const raw = await this.created('access request', r.tunnel, r.id, JSON.stringify(record), keys);
      const [stored] = await this.toRequests([raw]);
      return stored;
    });
  }

  getAccessRequest(id: string): Promise<AccessRequestRecord | undefined> {
    return callRedis(async () => {
      const raw = await this.client.hget(this.keys.requests, id);
      if (raw === null) return undefined;
      const [request] = await this.toRequests([raw]);
      return request;
    });
  }

  listAccessRequests(filter: { tunnel?: string; userId?: number; pendingOnly?: boolean }): Promise<AccessRequestRecord[]> {
    return callRedis(async () => {
      const k = this.keys;
      const raws =
        filter.tunnel !== undefined ? await this.recordsOf(k.requests, k.tunnelRequests(filter.tunnel))
        : filter.userId !== undefined ? await this.recordsOf(k.requests, k.userRequests(filter.userId))
        : await this.client.hvals(k.requests);
      const requests = await this.toRequests(raws);
      return requests.filter((r) => (filter.userId === undefined || r.userId === filter.userId) && (!filter.pendingOnly || r.status === 'pending'));
    });
  }

  reviewAccessRequest(id: string, review: Omit<AccessReview, 'reviewerName'>, approvalsNeeded: number, at: string): Promise<ReviewOutcome> {
    return callRedis(async (): Promise<ReviewOutcome> => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await this.client.hget(this.keys.requests, id);
        if (current === null) return { ok: false, reason: 'unknown' };
        const { durationMs } = JSON.parse(current) as StoredRequest;
        const argv = [id, String(review.reviewerId), review.decision, review.reason, review.at, String(approvalsNeeded), String(durationMs), addMs(at, durationMs)];
        const [status, raw] = await this.team.tetherReviewRequest(this.keys.requests, this.keys.userIds, ...argv);
        if (status === 'ok') return { ok: true, request: (await this.toRequests([raw ?? '']))[0] };
        if (status !== 'stale') return { ok: false, reason: status as 'unknown' | 'closed' | 'already-reviewed' };
      }
      throw createError(ErrorCode.INTERNAL, `access request ${id} kept changing while being reviewed`);
    });
  }

  sharedSecret(name: string): Promise<string> {
    return callRedis(async () => {
      // HSETNX: the first node to ask sets it; every node then reads the one that won.
      await this.client.hsetnx(this.keys.secrets, name, randomBytes(32).toString('base64url'));
      const value = await this.client.hget(this.keys.secrets, name);
      if (value === null) throw createError(ErrorCode.INTERNAL, `secret ${name} vanished after it was set`);
      return value;
    });
  }

  /** Runs CREATE_RECORD and maps its refusals; the stored JSON. */
  private async created(what: string, tunnel: string, id: string, json: string, keys: string[]): Promise<string> {
    const [status, raw] = await this.team.tetherCreateRecord(String(keys.length), ...keys, tunnel, id, json);
    if (status === 'no-tunnel') throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel ${tunnel}`);
    if (status === 'exists') throw createError(ErrorCode.INVALID_ARGUMENT, `${what} ${id} already exists`);
    return raw ?? '';
  }

  /** The records an index set names (ids whose record is gone are skipped). */
  private async recordsOf(records: string, index: string): Promise<string[]> {
    const ids = await this.client.smembers(index);
    if (ids.length === 0) return [];
    return (await this.client.hmget(records, ...ids)).filter((raw): raw is string => raw !== null);
  }

  /** Parses requests, newest first, with user names and `reviews` as an array. */
  private async toRequests(raws: string[]): Promise<AccessRequestRecord[]> {
    const stored = raws.map((raw) => JSON.parse(raw) as StoredRequest).sort(newestFirst);
    const names = await this.userNames(stored.map((r) => r.userId));
    return stored.map(({ seq: _seq, reviews, ...r }) => ({ ...r, userName: displayName(r.userId, names.get(r.userId)), reviews: Array.isArray(reviews) ? reviews : [], grantedUntil: r.grantedUntil ?? null }));
  }

  private async withUserNames(grants: StoredGrant[]): Promise<GrantRecord[]> {
    const names = await this.userNames(grants.map((g) => g.userId));
    return grants.map((g) => ({ ...pickGrant(g), userName: displayName(g.userId, names.get(g.userId)), createdAt: g.createdAt }));
  }

  /** One HMGET for all the ids' names (0, the admin, is not a user). */
  private async userNames(ids: number[]): Promise<Map<number, string | null>> {
    const unique = [...new Set(ids.filter((id) => id !== 0))];
    const names = unique.length === 0 ? [] : await this.client.hmget(this.keys.userIds, ...unique.map(String));
    return new Map(unique.map((id, i) => [id, names[i]]));
  }
}

/** Exactly the stored fields of a grant, in one order (a caller's extra properties are not kept). */
function pickGrant(g: GrantInput): GrantInput {
  return { tunnel: g.tunnel, userId: g.userId, role: g.role, expiresAt: g.expiresAt, blocked: g.blocked, source: g.source, grantedBy: g.grantedBy };
}

function pickInvite(i: InviteInput): InviteInput {
  return { id: i.id, tunnel: i.tunnel, role: i.role, createdBy: i.createdBy, expiresAt: i.expiresAt, maxUses: i.maxUses, userId: i.userId };
}

const now = (): string => new Date().toISOString();
