/**
 * The relay's sharing API as the client sees it (relay/src/routes/sharing.ts answers these
 * shapes). Declared here rather than imported: the client core must not load relay code, and
 * the VS Code extension shares these types with the CLI.
 */

/** A role given on a tunnel. */
export type TunnelRole = 'admin' | 'connect' | 'view';

/** The roles, strongest first (for flags' choices and completion). */
export const TUNNEL_ROLES: readonly TunnelRole[] = ['admin', 'connect', 'view'];

/** The caller's standing on a tunnel, as listings carry it. */
export type CallerRole = TunnelRole | 'owner' | 'relay-admin';

/** A member of a tunnel (`GET /v1/tunnels/:name/members`). */
export interface MemberInfo {
  user: string;
  role: TunnelRole;
  /** When the grant lapses by itself, or null (until removed). */
  expiresAt: string | null;
  blocked: boolean;
  /** How the user got it. */
  source: 'invite' | 'request' | 'direct';
  since: string;
}

export interface MemberList {
  tunnel: string;
  owner: string;
  members: MemberInfo[];
}

/** A tunnel's sharing settings. */
export interface TunnelSettings {
  /** 'required': every new member (an invitee too) needs approval through an access request. */
  approval: 'none' | 'required';
  /** Approvals a request needs (1 to 10). */
  approvals: number;
  /** Longest a request-given grant may last (ms), or null for no limit. */
  maxDurationMs: number | null;
}

export interface InviteInfo {
  id: string;
  tunnel: string;
  role: TunnelRole;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  /** Bound to one user, or null (anyone holding the code). */
  user: string | null;
  state: 'active' | 'revoked' | 'expired' | 'used-up';
}

export interface InviteOptions {
  role?: TunnelRole;
  expiresInMs?: number;
  uses?: number;
  user?: string;
}

/** A new invite: the code to hand over, and its record. */
export interface CreatedInvite {
  code: string;
  invite: InviteInfo;
}

export interface AccessReview {
  reviewer: string;
  decision: 'approve' | 'deny';
  reason: string;
  at: string;
}

export interface AccessRequestInfo {
  id: string;
  tunnel: string;
  user: string;
  role: TunnelRole;
  durationMs: number;
  reason: string;
  createdAt: string;
  status: 'pending' | 'approved' | 'denied';
  approvals: number;
  approvalsNeeded: number;
  reviews: AccessReview[];
  /** When the access given by an approval ends. */
  grantedUntil: string | null;
}

export interface AccessRequestOptions {
  role?: TunnelRole;
  durationMs?: number;
  reason?: string;
}

/**
 * An accepted invite: either access now (`granted`), or, on a tunnel that requires approval, an
 * access request waiting for its reviewers (`request`).
 */
export type AcceptedInvite =
  | { tunnel: string; role: TunnelRole; granted: MemberInfo; request: null }
  | { tunnel: string; role: TunnelRole; granted: null; request: AccessRequestInfo };
