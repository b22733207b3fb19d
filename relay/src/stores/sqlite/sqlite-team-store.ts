import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { createError, ErrorCode } from '@tether/shared';
import type {
  AccessRequestInput,
  AccessRequestRecord,
  AccessReview,
  GrantInput,
  GrantRecord,
  InviteInput,
  InviteRecord,
  InviteRefusal,
  ReviewOutcome,
  TeamStore,
  TunnelSettings,
} from '../../ports/team-store.js';
import { addMs, byTunnel, byUserName, displayName, inviteRefusal, newestFirst } from '../team-common.js';
import { GRANT_SELECT, migrate, REQUEST_SELECT, toGrant, toInvite, toRequest, withoutSeq, type GrantRow, type InviteRow, type RequestRow, type SettingsRow } from './sqlite-team-schema.js';

/**
 * The team half of the SQLite store (grants, invites, access requests, settings, secrets), kept
 * apart from users and tunnels so each file stays readable. `SqliteStore` extends it and calls
 * `purgeTunnelTeam` / `purgeUserTeam` inside its own delete transactions, so a deleted name or
 * user takes everything of its team with it. Operations that read then write (`useInvite`,
 * `reviewAccessRequest`, `putGrant`) run in IMMEDIATE transactions: a second process on the same
 * file cannot interleave.
 */
export class SqliteTeamStore implements TeamStore {
  private readonly team;

  constructor(protected readonly db: Database.Database) {
    migrate(db);
    this.team = {
      tunnelExists: db.prepare<[string], { name: string }>('SELECT name FROM tunnels WHERE name = ?'),
      userExists: db.prepare<[number], { id: number }>('SELECT id FROM users WHERE id = ?'),
      settings: db.prepare<[string], SettingsRow>('SELECT approval, approvals, max_duration_ms FROM tunnels WHERE name = ?'),
      setSettings: db.prepare<[string, number, number | null, string]>('UPDATE tunnels SET approval = ?, approvals = ?, max_duration_ms = ? WHERE name = ?'),
      grant: db.prepare<[string, number], GrantRow>(`${GRANT_SELECT} WHERE g.tunnel = ? AND g.user_id = ?`),
      grants: db.prepare<[string], GrantRow>(`${GRANT_SELECT} WHERE g.tunnel = ?`),
      grantsOf: db.prepare<[number], GrantRow>(`${GRANT_SELECT} WHERE g.user_id = ?`),
      putGrant: db.prepare<[string, number, string, string | null, number, string, number, string]>(
        `INSERT INTO grants (tunnel, user_id, role, expires_at, blocked, source, granted_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(tunnel, user_id) DO UPDATE SET role = excluded.role, expires_at = excluded.expires_at, blocked = excluded.blocked,
           source = excluded.source, granted_by = excluded.granted_by`,
      ),
      deleteGrant: db.prepare<[string, number]>('DELETE FROM grants WHERE tunnel = ? AND user_id = ?'),
      insertInvite: db.prepare<[string, string, string, number, string, string, number, number | null]>(
        'INSERT INTO invites (id, tunnel, role, created_by, created_at, expires_at, max_uses, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
      ),
      invite: db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE id = ?'),
      invites: db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE tunnel = ?'),
      revokeInvite: db.prepare<[string]>('UPDATE invites SET revoked = 1 WHERE id = ?'),
      useInvite: db.prepare<[string]>('UPDATE invites SET uses = uses + 1 WHERE id = ?'),
      insertRequest: db.prepare<[string, string, number, string, number, string, string]>(
        'INSERT INTO access_requests (id, tunnel, user_id, role, duration_ms, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
      ),
      request: db.prepare<[string], RequestRow>(`${REQUEST_SELECT} WHERE r.id = ?`),
      requests: db.prepare<[], RequestRow>(REQUEST_SELECT),
      requestsOfTunnel: db.prepare<[string], RequestRow>(`${REQUEST_SELECT} WHERE r.tunnel = ?`),
      requestsOfUser: db.prepare<[number], RequestRow>(`${REQUEST_SELECT} WHERE r.user_id = ?`),
      updateRequest: db.prepare<[string, string, string | null, string]>('UPDATE access_requests SET status = ?, reviews = ?, granted_until = ? WHERE id = ?'),
      reviewerName: db.prepare<[number], { name: string }>('SELECT name FROM users WHERE id = ?'),
      insertSecret: db.prepare<[string, string]>('INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING'),
      secret: db.prepare<[string], { value: string }>('SELECT value FROM secrets WHERE name = ?'),
      purgeTunnel: [
        db.prepare<[string]>('DELETE FROM grants WHERE tunnel = ?'),
        db.prepare<[string]>('DELETE FROM invites WHERE tunnel = ?'),
        db.prepare<[string]>('DELETE FROM access_requests WHERE tunnel = ?'),
      ],
      purgeUser: [db.prepare<[number]>('DELETE FROM grants WHERE user_id = ?'), db.prepare<[number]>('DELETE FROM access_requests WHERE user_id = ?')],
    };
  }

  async getTunnelSettings(tunnel: string): Promise<TunnelSettings | undefined> {
    const row = this.team.settings.get(tunnel);
    if (!row) return undefined;
    return { approval: row.approval, approvals: row.approvals, maxDurationMs: row.max_duration_ms };
  }

  async setTunnelSettings(tunnel: string, settings: TunnelSettings): Promise<boolean> {
    return this.team.setSettings.run(settings.approval, settings.approvals, settings.maxDurationMs, tunnel).changes > 0;
  }

  async putGrant(grant: GrantInput): Promise<GrantRecord> {
    return this.db.transaction(() => {
      this.requireTunnel(grant.tunnel);
      if (grant.userId !== 0 && !this.team.userExists.get(grant.userId)) throw createError(ErrorCode.INVALID_ARGUMENT, `no user #${grant.userId}`);
      const g = grant;
      this.team.putGrant.run(g.tunnel, g.userId, g.role, g.expiresAt, g.blocked ? 1 : 0, g.source, g.grantedBy, now());
      const row = this.team.grant.get(g.tunnel, g.userId);
      if (!row) throw createError(ErrorCode.INTERNAL, 'grant vanished after its insert');
      return toGrant(row);
    }).immediate();
  }

  async getGrant(tunnel: string, userId: number): Promise<GrantRecord | undefined> {
    const row = this.team.grant.get(tunnel, userId);
    return row && toGrant(row);
  }

  async listGrants(tunnel: string): Promise<GrantRecord[]> {
    return this.team.grants.all(tunnel).map(toGrant).sort(byUserName);
  }

  async listGrantsOfUser(userId: number): Promise<GrantRecord[]> {
    return this.team.grantsOf.all(userId).map(toGrant).sort(byTunnel);
  }

  async deleteGrant(tunnel: string, userId: number): Promise<boolean> {
    return this.team.deleteGrant.run(tunnel, userId).changes > 0;
  }

  async createInvite(invite: InviteInput): Promise<InviteRecord> {
    return this.db.transaction(() => {
      this.requireTunnel(invite.tunnel);
      const i = invite;
      if (this.team.insertInvite.run(i.id, i.tunnel, i.role, i.createdBy, now(), i.expiresAt, i.maxUses, i.userId).changes === 0) {
        throw createError(ErrorCode.INVALID_ARGUMENT, `invite ${i.id} already exists`);
      }
      return this.inviteOrFail(i.id);
    }).immediate();
  }

  async getInvite(id: string): Promise<InviteRecord | undefined> {
    const row = this.team.invite.get(id);
    return row && toInvite(row);
  }

  async listInvites(tunnel: string): Promise<InviteRecord[]> {
    return this.team.invites.all(tunnel).map((r) => ({ ...toInvite(r), seq: r.seq })).sort(newestFirst).map(withoutSeq);
  }

  async revokeInvite(id: string): Promise<boolean> {
    return this.team.revokeInvite.run(id).changes > 0;
  }

  async useInvite(id: string, userId: number, now: string): Promise<{ ok: true; invite: InviteRecord } | { ok: false; reason: InviteRefusal }> {
    return this.db.transaction((): { ok: true; invite: InviteRecord } | { ok: false; reason: InviteRefusal } => {
      const row = this.team.invite.get(id);
      if (!row) return { ok: false, reason: 'unknown' };
      const refusal = inviteRefusal(toInvite(row), userId, now);
      if (refusal) return { ok: false, reason: refusal };
      this.team.useInvite.run(id);
      return { ok: true, invite: this.inviteOrFail(id) };
    }).immediate();
  }

  async createAccessRequest(request: AccessRequestInput): Promise<AccessRequestRecord> {
    return this.db.transaction(() => {
      this.requireTunnel(request.tunnel);
      const r = request;
      if (this.team.insertRequest.run(r.id, r.tunnel, r.userId, r.role, r.durationMs, r.reason, now()).changes === 0) {
        throw createError(ErrorCode.INVALID_ARGUMENT, `access request ${r.id} already exists`);
      }
      return this.requestOrFail(r.id);
    }).immediate();
  }

  async getAccessRequest(id: string): Promise<AccessRequestRecord | undefined> {
    const row = this.team.request.get(id);
    return row && withoutSeq(toRequest(row));
  }

  async listAccessRequests(filter: { tunnel?: string; userId?: number; pendingOnly?: boolean }): Promise<AccessRequestRecord[]> {
    const rows =
      filter.tunnel !== undefined ? this.team.requestsOfTunnel.all(filter.tunnel)
      : filter.userId !== undefined ? this.team.requestsOfUser.all(filter.userId)
      : this.team.requests.all();
    return rows
      .map(toRequest)
      .filter((r) => (filter.userId === undefined || r.userId === filter.userId) && (!filter.pendingOnly || r.status === 'pending'))
      .sort(newestFirst)
      .map(withoutSeq);
  }

  async reviewAccessRequest(id: string, review: Omit<AccessReview, 'reviewerName'>, approvalsNeeded: number, now: string): Promise<ReviewOutcome> {
    return this.db.transaction((): ReviewOutcome => {
      const row = this.team.request.get(id);
      if (!row) return { ok: false, reason: 'unknown' };
      const request = toRequest(row);
      if (request.status !== 'pending') return { ok: false, reason: 'closed' };
      if (request.reviews.some((r) => r.reviewerId === review.reviewerId)) return { ok: false, reason: 'already-reviewed' };
      const reviewerName = displayName(review.reviewerId, this.team.reviewerName.get(review.reviewerId)?.name);
      const reviews = [...request.reviews, { reviewerId: review.reviewerId, reviewerName, decision: review.decision, reason: review.reason, at: review.at }];
      const approvals = reviews.filter((r) => r.decision === 'approve').length;
      const status = review.decision === 'deny' ? 'denied' : approvals >= approvalsNeeded ? 'approved' : 'pending';
      const grantedUntil = status === 'approved' ? addMs(now, request.durationMs) : null;
      this.team.updateRequest.run(status, JSON.stringify(reviews), grantedUntil, id);
      return { ok: true, request: this.requestOrFail(id) };
    }).immediate();
  }

  async sharedSecret(name: string): Promise<string> {
    this.team.insertSecret.run(name, randomBytes(32).toString('base64url'));
    const row = this.team.secret.get(name);
    if (!row) throw createError(ErrorCode.INTERNAL, `secret ${name} vanished after its insert`);
    return row.value;
  }

  /** Deletes the tunnel's grants, invites and requests; the caller runs it in its transaction. */
  protected purgeTunnelTeam(tunnel: string): void {
    for (const stmt of this.team.purgeTunnel) stmt.run(tunnel);
  }

  /** Deletes the user's grants and requests on every tunnel; the caller runs it in its transaction. */
  protected purgeUserTeam(userId: number): void {
    for (const stmt of this.team.purgeUser) stmt.run(userId);
  }

  /** Records on a name nobody holds would pass to whoever claims it next: refused. */
  private requireTunnel(tunnel: string): void {
    if (!this.team.tunnelExists.get(tunnel)) throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel ${tunnel}`);
  }

  private inviteOrFail(id: string): InviteRecord {
    const row = this.team.invite.get(id);
    if (!row) throw createError(ErrorCode.INTERNAL, `invite ${id} vanished`);
    return toInvite(row);
  }

  private requestOrFail(id: string): AccessRequestRecord {
    const row = this.team.request.get(id);
    if (!row) throw createError(ErrorCode.INTERNAL, `access request ${id} vanished`);
    return withoutSeq(toRequest(row));
  }
}

const now = (): string => new Date().toISOString();
