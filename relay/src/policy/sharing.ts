import { randomBytes } from 'node:crypto';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { InvalidationPublisher } from '../cluster/invalidation.js';
import type { Identity } from '../identity.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { AccessRequestRecord, GrantRecord, InviteRecord, InviteRefusal, TunnelRole, TunnelSettings } from '../ports/team-store.js';
import { DEFAULT_TUNNEL_SETTINGS } from '../ports/team-store.js';
import { refusal, type TunnelDecision } from './decision.js';
import { readInvite, signInvite } from './invite-code.js';
import type { Policy } from './policy.js';
import { liveGrant } from './roles.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Invites: default and longest life, and most uses. */
export const INVITE_DEFAULT_MS = DAY;
export const INVITE_MAX_MS = 30 * DAY;
export const INVITE_MAX_USES = 1000;
/** Access requests: default and longest duration (a tunnel may set a shorter longest). */
export const REQUEST_DEFAULT_MS = 8 * HOUR;
export const REQUEST_MAX_MS = 365 * DAY;
const REASON_MAX = 500;
const SECRET_NAME = 'invite-signing-key';

/** Roles by strength: a member keeps the stronger of what it holds and what it is given. */
const STRENGTH: Record<TunnelRole, number> = { view: 1, connect: 2, admin: 3 };

export interface SharingDeps {
  store: Store;
  policy: Policy;
  auditor: Auditor;
  clock: Clock;
  invalidations: InvalidationPublisher;
  nodeId: string;
  /** Decides `userId`'s open streams to `tunnel` again on this node (Router.recheckAccess). */
  recheck: (userId: number, tunnel: string, why: string) => Promise<number>;
}

/** A member as the sharing panel and `tether members` show it. */
export interface MemberView {
  user: string;
  role: TunnelRole;
  expiresAt: string | null;
  blocked: boolean;
  source: GrantRecord['source'];
  since: string;
}

export interface InviteView {
  id: string;
  tunnel: string;
  role: TunnelRole;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  user: string | null;
  state: 'active' | 'revoked' | 'expired' | 'used-up';
}

export interface RequestView {
  id: string;
  tunnel: string;
  user: string;
  role: TunnelRole;
  durationMs: number;
  reason: string;
  createdAt: string;
  status: AccessRequestRecord['status'];
  approvals: number;
  approvalsNeeded: number;
  reviews: { reviewer: string; decision: 'approve' | 'deny'; reason: string; at: string }[];
  grantedUntil: string | null;
}

const REFUSED: Record<InviteRefusal, [TetherError['code'], string]> = {
  unknown: [ErrorCode.INVITE_REVOKED, 'this invite no longer exists (its tunnel was deleted, or it was revoked): ask for a new one'],
  revoked: [ErrorCode.INVITE_REVOKED, 'this invite was revoked: ask for a new one'],
  expired: [ErrorCode.INVITE_EXPIRED, 'this invite has expired: ask for a new one'],
  'used-up': [ErrorCode.INVITE_USED_UP, 'this invite has been used as many times as it allows: ask for a new one'],
  'wrong-user': [ErrorCode.INVITE_NOT_FOR_YOU, 'this invite is for another user'],
};

function checkReason(reason: string | undefined): string {
  const text = (reason ?? '').trim();
  if (text.length > REASON_MAX) throw createError(ErrorCode.INVALID_ARGUMENT, `a reason is at most ${REASON_MAX} characters`);
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) throw createError(ErrorCode.INVALID_ARGUMENT, 'a reason is one line of text without control characters');
  return text;
}

function checkDuration(ms: number, what: string, max: number): number {
  if (!Number.isSafeInteger(ms) || ms < 1000) throw createError(ErrorCode.INVALID_ARGUMENT, `${what} must be at least 1 s`);
  if (ms > max) throw createError(ErrorCode.INVALID_ARGUMENT, `${what} may be at most ${describeMs(max)}`);
  return ms;
}

/** 90000 → "1m30s"; for messages. */
export function describeMs(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('') || '0s';
}

/**
 * Sharing a tunnel: members and their roles, invites, access requests and their reviews, and a
 * tunnel's settings. Every call is decided by the policy (`tunnel.manage`, `tunnel.request`) and
 * audited; a change that ends or narrows someone's access has that user's open streams to the
 * tunnel decided again at once, on this node and (through the invalidation channel) on every
 * other.
 */
export class Sharing {
  constructor(private readonly deps: SharingDeps) {}

  // --- members ----------------------------------------------------------------------------------

  async members(subject: Identity, tunnel: string): Promise<{ tunnel: string; owner: string; members: MemberView[] }> {
    const decision = await this.manage(subject, tunnel);
    const grants = await this.deps.store.listGrants(tunnel);
    const now = this.deps.clock.now();
    return { tunnel, owner: decision.tunnel!.ownerName, members: grants.filter((g) => g.blocked || liveGrant(g, now)).map(memberView) };
  }

  /** Gives `userName` a role (directly), or changes it; only the owner gives or takes the admin role. */
  async setMember(subject: Identity, tunnel: string, userName: string, role: TunnelRole, expiresAt: string | null): Promise<MemberView> {
    const decision = await this.manage(subject, tunnel);
    const user = await this.userOn(decision, userName);
    const current = await this.deps.store.getGrant(tunnel, user.id);
    if (role === 'admin' || current?.role === 'admin') this.requireOwner(subject, decision, 'give or take the admin role');
    if (expiresAt !== null && Date.parse(expiresAt) <= this.deps.clock.now()) throw createError(ErrorCode.INVALID_ARGUMENT, 'the expiry must be in the future');
    const grant = await this.deps.store.putGrant({ tunnel, userId: user.id, role, expiresAt, blocked: current?.blocked ?? false, source: current?.source ?? 'direct', grantedBy: subject.id });
    this.audit(AuditEventCode.MEMBER_GRANTED, subject, tunnel, { user: user.name, role, source: grant.source, expiresAt: expiresAt ?? 'never' });
    // A narrower role or an earlier end: the member's open streams are decided again.
    await this.changed(subject, tunnel, user.id, 'role changed');
    return memberView(grant);
  }

  async removeMember(subject: Identity, tunnel: string, userName: string): Promise<void> {
    const decision = await this.manage(subject, tunnel);
    const user = await this.userOn(decision, userName);
    const current = await this.deps.store.getGrant(tunnel, user.id);
    if (!current) throw createError(ErrorCode.NOT_FOUND, `${user.name} is not a member of tunnel ${tunnel}`);
    if (current.role === 'admin') this.requireOwner(subject, decision, 'remove an admin');
    await this.deps.store.deleteGrant(tunnel, user.id);
    this.audit(AuditEventCode.MEMBER_REMOVED, subject, tunnel, { user: user.name });
    await this.changed(subject, tunnel, user.id, 'removed from the tunnel');
  }

  /** Blocks (an explicit deny that beats every role) or unblocks a user on the tunnel. */
  async block(subject: Identity, tunnel: string, userName: string, blocked: boolean): Promise<MemberView> {
    const decision = await this.manage(subject, tunnel);
    const user = await this.userOn(decision, userName);
    const current = await this.deps.store.getGrant(tunnel, user.id);
    if (current?.role === 'admin') this.requireOwner(subject, decision, 'block an admin');
    const grant = await this.deps.store.putGrant({
      tunnel, userId: user.id, role: current?.role ?? 'view', expiresAt: current?.expiresAt ?? null, blocked, source: current?.source ?? 'direct', grantedBy: subject.id,
    });
    this.audit(blocked ? AuditEventCode.MEMBER_BLOCKED : AuditEventCode.MEMBER_UNBLOCKED, subject, tunnel, { user: user.name });
    if (blocked) await this.changed(subject, tunnel, user.id, 'blocked on the tunnel');
    else this.deps.policy.forgetGrant(tunnel, user.id);
    return memberView(grant);
  }

  async settings(subject: Identity, tunnel: string, patch: Partial<TunnelSettings> = {}): Promise<TunnelSettings> {
    await this.manage(subject, tunnel);
    const current = (await this.deps.store.getTunnelSettings(tunnel)) ?? DEFAULT_TUNNEL_SETTINGS;
    if (Object.keys(patch).length === 0) return current;
    const next: TunnelSettings = { ...current, ...patch };
    if (!Number.isInteger(next.approvals) || next.approvals < 1 || next.approvals > 10) throw createError(ErrorCode.INVALID_ARGUMENT, 'approvals must be from 1 to 10');
    if (next.maxDurationMs !== null) checkDuration(next.maxDurationMs, 'the longest access', REQUEST_MAX_MS);
    await this.deps.store.setTunnelSettings(tunnel, next);
    this.audit(AuditEventCode.TUNNEL_SETTINGS_CHANGED, subject, tunnel, { approval: next.approval, approvals: next.approvals, maxDurationMs: next.maxDurationMs ?? 0 });
    return next;
  }

  // --- invites ----------------------------------------------------------------------------------

  async createInvite(subject: Identity, tunnel: string, options: { role?: TunnelRole; expiresInMs?: number; uses?: number; user?: string }): Promise<{ code: string; invite: InviteView }> {
    const decision = await this.manage(subject, tunnel);
    const role = options.role ?? 'connect';
    if (role === 'admin') this.requireOwner(subject, decision, 'invite an admin');
    const life = checkDuration(options.expiresInMs ?? INVITE_DEFAULT_MS, 'an invite', INVITE_MAX_MS);
    const uses = options.uses ?? 1;
    if (!Number.isInteger(uses) || uses < 1 || uses > INVITE_MAX_USES) throw createError(ErrorCode.INVALID_ARGUMENT, `uses must be from 1 to ${INVITE_MAX_USES}`);
    const bound = options.user === undefined ? null : await this.userOn(decision, options.user);
    const now = this.deps.clock.now();
    const invite = await this.deps.store.createInvite({
      id: `inv_${randomBytes(12).toString('base64url')}`, tunnel, role, createdBy: subject.id, expiresAt: new Date(now + life).toISOString(), maxUses: uses, userId: bound?.id ?? null,
    });
    const code = await signInvite(await this.deps.store.sharedSecret(SECRET_NAME), invite);
    this.audit(AuditEventCode.INVITE_CREATED, subject, tunnel, { invite: invite.id, role, uses, expiresAt: invite.expiresAt, user: bound?.name ?? 'anyone' });
    return { code, invite: this.inviteView(invite, bound?.name ?? null) };
  }

  async listInvites(subject: Identity, tunnel: string): Promise<InviteView[]> {
    await this.manage(subject, tunnel);
    const invites = await this.deps.store.listInvites(tunnel);
    const names = await this.userNames(invites.map((i) => i.userId));
    return invites.map((i) => this.inviteView(i, i.userId === null ? null : names.get(i.userId) ?? null));
  }

  async revokeInvite(subject: Identity, id: string): Promise<void> {
    const invite = await this.deps.store.getInvite(id);
    if (!invite) throw createError(ErrorCode.NOT_FOUND, `no invite ${id}`);
    await this.manage(subject, invite.tunnel, () => createError(ErrorCode.NOT_FOUND, `no invite ${id}`));
    await this.deps.store.revokeInvite(id);
    this.audit(AuditEventCode.INVITE_REVOKED, subject, invite.tunnel, { invite: id });
  }

  /**
   * Accepts an invite: the caller becomes a member with the invite's role (keeping a stronger
   * role it holds), or, when the tunnel requires approval, gets a pending access request.
   */
  async acceptInvite(subject: Identity, code: string): Promise<{ tunnel: string; role: TunnelRole; granted: MemberView | null; request: RequestView | null }> {
    const now = this.deps.clock.now();
    let claims;
    try {
      claims = await readInvite(await this.deps.store.sharedSecret(SECRET_NAME), code, now);
    } catch (err) {
      this.deps.auditor.record(AuditEventCode.INVITE_REFUSED, subject, 'invite.accept', 'relay', { reason: (err as Error).message });
      throw err;
    }
    const resource = `tunnel:${claims.tunnel}`;
    const tunnelDecision = await this.deps.policy.authorize(subject, 'tunnel.request', { kind: 'tunnel', name: claims.tunnel });
    if (!tunnelDecision.allow) {
      // The owner, the relay admin, a blocked user: nothing to accept.
      if (tunnelDecision.code === ErrorCode.TUNNEL_UNKNOWN) throw createError(ErrorCode.INVITE_REVOKED, REFUSED.unknown[1]);
      throw refusal(tunnelDecision);
    }
    const used = await this.deps.store.useInvite(claims.id, subject.id, new Date(now).toISOString());
    if (!used.ok) {
      const [errCode, message] = REFUSED[used.reason];
      this.deps.auditor.record(AuditEventCode.INVITE_REFUSED, subject, 'invite.accept', resource, { reason: used.reason, detail: { invite: claims.id } });
      throw createError(errCode, message);
    }
    const invite = used.invite;
    this.audit(AuditEventCode.INVITE_ACCEPTED, subject, invite.tunnel, { invite: invite.id, role: invite.role });
    const settings = (await this.deps.store.getTunnelSettings(invite.tunnel)) ?? DEFAULT_TUNNEL_SETTINGS;
    if (settings.approval === 'required') {
      const request = await this.openRequest(subject, invite.tunnel, invite.role, settings.maxDurationMs ?? REQUEST_DEFAULT_MS, `accepted invite ${invite.id}`);
      return { tunnel: invite.tunnel, role: invite.role, granted: null, request };
    }
    const grant = await this.grantKeepingStronger(subject, subject, invite.tunnel, invite.role, null, 'invite', invite.createdBy);
    return { tunnel: invite.tunnel, role: grant.role, granted: memberView(grant), request: null };
  }

  // --- access requests --------------------------------------------------------------------------

  async requestAccess(subject: Identity, tunnel: string, options: { role?: TunnelRole; durationMs?: number; reason?: string }): Promise<RequestView> {
    const decision = await this.deps.policy.authorize(subject, 'tunnel.request', { kind: 'tunnel', name: tunnel });
    if (!decision.allow) throw refusal(decision);
    const settings = (await this.deps.store.getTunnelSettings(tunnel)) ?? DEFAULT_TUNNEL_SETTINGS;
    const max = settings.maxDurationMs ?? REQUEST_MAX_MS;
    const duration = checkDuration(options.durationMs ?? Math.min(REQUEST_DEFAULT_MS, max), 'the access asked for', max);
    return this.openRequest(subject, tunnel, options.role ?? 'connect', duration, checkReason(options.reason));
  }

  /** The caller's own requests, and those it reviews (tunnels it owns or administers; the relay admin: all). */
  async listRequests(subject: Identity, pendingOnly: boolean): Promise<RequestView[]> {
    const { store } = this.deps;
    const mine = await store.listAccessRequests({ userId: subject.id, pendingOnly });
    const reviewable: AccessRequestRecord[] = [];
    for (const t of await this.deps.policy.visibleTunnels(subject)) {
      if (t.role !== 'owner' && t.role !== 'admin' && t.role !== 'relay-admin') continue;
      reviewable.push(...(await store.listAccessRequests({ tunnel: t.name, pendingOnly })));
    }
    const seen = new Set<string>();
    const all = [...mine, ...reviewable].filter((r) => !seen.has(r.id) && seen.add(r.id));
    all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return Promise.all(all.map((r) => this.requestView(r)));
  }

  async review(subject: Identity, id: string, decision: 'approve' | 'deny', reason: string | undefined): Promise<RequestView> {
    const { store } = this.deps;
    const request = await store.getAccessRequest(id);
    const unknown = (): TetherError => createError(ErrorCode.NOT_FOUND, `no access request ${id}`);
    if (!request) throw unknown();
    if (request.userId === subject.id) throw createError(ErrorCode.REVIEW_REFUSED, 'nobody reviews their own access request');
    const tunnelDecision = await this.manage(subject, request.tunnel, unknown);
    if (request.role === 'admin') this.requireOwner(subject, tunnelDecision, 'approve or deny a request for the admin role');
    const settings = (await store.getTunnelSettings(request.tunnel)) ?? DEFAULT_TUNNEL_SETTINGS;
    const now = this.deps.clock.now();
    const outcome = await store.reviewAccessRequest(id, { reviewerId: subject.id, decision, reason: checkReason(reason), at: new Date(now).toISOString() }, settings.approvals, new Date(now).toISOString());
    if (!outcome.ok) {
      if (outcome.reason === 'unknown') throw unknown();
      if (outcome.reason === 'closed') throw createError(ErrorCode.REQUEST_CLOSED, `access request ${id} is ${request.status} already`);
      throw createError(ErrorCode.REVIEW_REFUSED, `you reviewed access request ${id} already`);
    }
    const done = outcome.request;
    this.audit(AuditEventCode.REQUEST_REVIEWED, subject, done.tunnel, { request: id, decision, user: done.userName });
    if (done.status === 'denied') this.audit(AuditEventCode.REQUEST_DENIED, subject, done.tunnel, { request: id, user: done.userName });
    if (done.status === 'approved') {
      this.audit(AuditEventCode.REQUEST_APPROVED, subject, done.tunnel, { request: id, user: done.userName, until: done.grantedUntil ?? '' });
      await this.grantKeepingStronger(subject, { id: done.userId, name: done.userName }, done.tunnel, done.role, done.grantedUntil, 'request', subject.id);
    }
    return this.requestView(done);
  }

  // --- helpers ----------------------------------------------------------------------------------

  private async openRequest(subject: Identity, tunnel: string, role: TunnelRole, durationMs: number, reason: string): Promise<RequestView> {
    const pending = await this.deps.store.listAccessRequests({ tunnel, userId: subject.id, pendingOnly: true });
    if (pending.length > 0) throw createError(ErrorCode.INVALID_ARGUMENT, `you have a pending access request for tunnel ${tunnel} already (${pending[0].id})`);
    const request = await this.deps.store.createAccessRequest({ id: `req_${randomBytes(9).toString('base64url')}`, tunnel, userId: subject.id, role, durationMs, reason });
    this.audit(AuditEventCode.REQUEST_CREATED, subject, tunnel, { request: request.id, role, durationMs });
    return this.requestView(request);
  }

  /** Gives the role unless the member holds a stronger one that lasts at least as long. */
  private async grantKeepingStronger(actor: Identity, user: { id: number; name: string }, tunnel: string, role: TunnelRole, expiresAt: string | null, source: GrantRecord['source'], by: number): Promise<GrantRecord> {
    const current = liveGrant(await this.deps.store.getGrant(tunnel, user.id), this.deps.clock.now());
    if (current?.blocked) throw createError(ErrorCode.TUNNEL_FORBIDDEN, `${user.name} is blocked on tunnel ${tunnel}: ask its owner`);
    const lasts = (g: GrantRecord) => (g.expiresAt === null ? Infinity : Date.parse(g.expiresAt));
    if (current && STRENGTH[current.role] >= STRENGTH[role] && lasts(current) >= (expiresAt === null ? Infinity : Date.parse(expiresAt))) return current;
    const grant = await this.deps.store.putGrant({ tunnel, userId: user.id, role, expiresAt, blocked: false, source, grantedBy: by });
    this.deps.policy.forgetGrant(tunnel, user.id);
    this.audit(AuditEventCode.MEMBER_GRANTED, actor, tunnel, { user: user.name, role, source, expiresAt: expiresAt ?? 'never' });
    return grant;
  }

  /** Decides `tunnel.manage`; refuses as the policy says (or as `hide` says, to name no tunnel). */
  private async manage(subject: Identity, tunnel: string, hide?: () => TetherError): Promise<TunnelDecision> {
    const decision = await this.deps.policy.authorize(subject, 'tunnel.manage', { kind: 'tunnel', name: tunnel });
    if (!decision.allow) throw hide && decision.code === ErrorCode.TUNNEL_UNKNOWN ? hide() : refusal(decision);
    return decision;
  }

  private requireOwner(subject: Identity, decision: TunnelDecision, what: string): void {
    if (decision.role !== 'owner' && decision.role !== 'relay-admin') throw createError(ErrorCode.TUNNEL_FORBIDDEN, `only the owner of tunnel ${decision.tunnel!.name} may ${what}`);
  }

  private async userOn(decision: TunnelDecision, name: string): Promise<{ id: number; name: string }> {
    const user = await this.deps.store.findUserByName(name);
    if (!user) throw createError(ErrorCode.NOT_FOUND, `no user named ${name}`);
    if (user.id === decision.tunnel!.ownerId) throw createError(ErrorCode.INVALID_ARGUMENT, `${name} owns tunnel ${decision.tunnel!.name}: the owner's rights cannot be changed`);
    return user;
  }

  /** A grant changed: caches here and on every node forget it, and open streams are decided again. */
  private async changed(subject: Identity, tunnel: string, userId: number, why: string): Promise<void> {
    this.deps.policy.forgetGrant(tunnel, userId);
    this.deps.invalidations.publish({ kind: 'grant-changed', origin: this.deps.nodeId, tunnel, userId, reason: why });
    const reset = await this.deps.recheck(userId, tunnel, why);
    if (reset > 0) this.audit(AuditEventCode.STREAMS_REVOKED, subject, tunnel, { reset, why });
  }

  private audit(code: AuditEventCode, subject: Identity, tunnel: string, detail: Record<string, string | number | boolean>): void {
    this.deps.auditor.record(code, subject, 'tunnel.manage', `tunnel:${tunnel}`, { detail });
  }

  private async userNames(ids: (number | null)[]): Promise<Map<number, string>> {
    const wanted = new Set(ids.filter((id): id is number => id !== null));
    const names = new Map<number, string>();
    if (wanted.size === 0) return names;
    for (const u of await this.deps.store.listUsers()) if (wanted.has(u.id)) names.set(u.id, u.name);
    return names;
  }

  private inviteView(invite: InviteRecord, user: string | null): InviteView {
    const now = this.deps.clock.now();
    const state = invite.revoked ? 'revoked' : Date.parse(invite.expiresAt) <= now ? 'expired' : invite.uses >= invite.maxUses ? 'used-up' : 'active';
    return { id: invite.id, tunnel: invite.tunnel, role: invite.role, createdAt: invite.createdAt, expiresAt: invite.expiresAt, maxUses: invite.maxUses, uses: invite.uses, user, state };
  }

  private async requestView(r: AccessRequestRecord): Promise<RequestView> {
    const settings = (await this.deps.store.getTunnelSettings(r.tunnel)) ?? DEFAULT_TUNNEL_SETTINGS;
    return {
      id: r.id, tunnel: r.tunnel, user: r.userName, role: r.role, durationMs: r.durationMs, reason: r.reason, createdAt: r.createdAt, status: r.status,
      approvals: r.reviews.filter((v) => v.decision === 'approve').length, approvalsNeeded: settings.approvals,
      reviews: r.reviews.map((v) => ({ reviewer: v.reviewerName, decision: v.decision, reason: v.reason, at: v.at })), grantedUntil: r.grantedUntil,
    };
  }
}

function memberView(g: GrantRecord): MemberView {
  return { user: g.userName, role: g.role, expiresAt: g.expiresAt, blocked: g.blocked, source: g.source, since: g.createdAt };
}
