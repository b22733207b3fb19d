/**
 * What teams add to the store (capability 7): roles granted on tunnels, invites, access
 * requests, and each tunnel's sharing settings. Only the policy module and the team routes read
 * or write these (the lint rule on grants). Times are ISO 8601 strings (UTC, milliseconds), as
 * everywhere in the store; "now" is passed in where a decision depends on it, so a store never
 * reads a clock of its own and tests can move time.
 */

/** A role a member holds on a tunnel; the owner's is not a grant (it is the tunnel's owner). */
export type TunnelRole = 'admin' | 'connect' | 'view';

export const TUNNEL_ROLES: readonly TunnelRole[] = ['admin', 'connect', 'view'];

/** One user's standing on one tunnel: at most one per (tunnel, user). */
export interface GrantRecord {
  tunnel: string;
  userId: number;
  userName: string;
  role: TunnelRole;
  /** When the grant lapses by itself, or null (until removed). */
  expiresAt: string | null;
  /** An explicit deny: the user may do nothing on the tunnel, whatever its role says. */
  blocked: boolean;
  /** How the user got it. */
  source: 'invite' | 'request' | 'direct';
  /** Who gave it (a user id; 0 for the relay admin). */
  grantedBy: number;
  createdAt: string;
}

/** What a caller gives to create or replace a grant. */
export type GrantInput = Omit<GrantRecord, 'userName' | 'createdAt'>;

/** How a tunnel is shared. */
export interface TunnelSettings {
  /** 'required': every new member (an invitee too) needs approval through an access request. */
  approval: 'none' | 'required';
  /** Approvals a request needs (1 to 10). */
  approvals: number;
  /** Longest a request-given grant may last (ms), or null for no limit. */
  maxDurationMs: number | null;
}

export const DEFAULT_TUNNEL_SETTINGS: TunnelSettings = Object.freeze({ approval: 'none', approvals: 1, maxDurationMs: null });

export interface InviteRecord {
  /** Random, URL-safe; the signed invite code names it. */
  id: string;
  tunnel: string;
  role: TunnelRole;
  createdBy: number;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  /** Bound to one user, or null (anyone holding the code). */
  userId: number | null;
  revoked: boolean;
}

export type InviteInput = Omit<InviteRecord, 'createdAt' | 'uses' | 'revoked'>;

/** Why an invite could not be used. */
export type InviteRefusal = 'unknown' | 'revoked' | 'expired' | 'used-up' | 'wrong-user';

export interface AccessReview {
  reviewerId: number;
  reviewerName: string;
  decision: 'approve' | 'deny';
  reason: string;
  at: string;
}

export interface AccessRequestRecord {
  id: string;
  tunnel: string;
  userId: number;
  userName: string;
  role: TunnelRole;
  /** How long the grant lasts once approved (ms). */
  durationMs: number;
  reason: string;
  createdAt: string;
  status: 'pending' | 'approved' | 'denied';
  reviews: AccessReview[];
  /** An approved request: when the grant it gave lapses. */
  grantedUntil: string | null;
}

export type AccessRequestInput = Pick<AccessRequestRecord, 'id' | 'tunnel' | 'userId' | 'role' | 'durationMs' | 'reason'>;

/** What a review did to a request. */
export type ReviewOutcome =
  | { ok: true; request: AccessRequestRecord }
  | { ok: false; reason: 'unknown' | 'closed' | 'already-reviewed' };

export interface TeamStore {
  /** The tunnel's sharing settings (defaults until set); undefined for no such tunnel. */
  getTunnelSettings(tunnel: string): Promise<TunnelSettings | undefined>;
  /** Replaces the settings; false for no such tunnel. */
  setTunnelSettings(tunnel: string, settings: TunnelSettings): Promise<boolean>;

  /** Creates or replaces the user's grant on the tunnel (keeping `createdAt` on a replace). */
  putGrant(grant: GrantInput): Promise<GrantRecord>;
  getGrant(tunnel: string, userId: number): Promise<GrantRecord | undefined>;
  /** The tunnel's grants, by user name. */
  listGrants(tunnel: string): Promise<GrantRecord[]>;
  /** The user's grants on every tunnel, by tunnel name. */
  listGrantsOfUser(userId: number): Promise<GrantRecord[]>;
  deleteGrant(tunnel: string, userId: number): Promise<boolean>;

  createInvite(invite: InviteInput): Promise<InviteRecord>;
  getInvite(id: string): Promise<InviteRecord | undefined>;
  /** The tunnel's invites, newest first (revoked and used-up ones included). */
  listInvites(tunnel: string): Promise<InviteRecord[]>;
  /** Marks it revoked; false for no such invite. */
  revokeInvite(id: string): Promise<boolean>;
  /**
   * Atomically: counts one use of the invite by `userId` at `now`, unless it is unknown, revoked,
   * expired, used up or bound to another user; resolves the invite after the use, or why not.
   */
  useInvite(id: string, userId: number, now: string): Promise<{ ok: true; invite: InviteRecord } | { ok: false; reason: InviteRefusal }>;

  createAccessRequest(request: AccessRequestInput): Promise<AccessRequestRecord>;
  getAccessRequest(id: string): Promise<AccessRequestRecord | undefined>;
  /** Requests of one tunnel, or one user, newest first; only pending ones with `pendingOnly`. */
  listAccessRequests(filter: { tunnel?: string; userId?: number; pendingOnly?: boolean }): Promise<AccessRequestRecord[]>;
  /**
   * Atomically adds one review to a pending request. A deny ends it (denied); the approval that
   * reaches `approvalsNeeded` approves it, with `grantedUntil` = `now` + its duration. Refused
   * for an unknown or closed request, or a reviewer who already reviewed it.
   */
  reviewAccessRequest(id: string, review: Omit<AccessReview, 'reviewerName'>, approvalsNeeded: number, now: string): Promise<ReviewOutcome>;

  /** A secret the relay keeps in the store (created at first use; the same on every node). */
  sharedSecret(name: string): Promise<string>;
}
