/**
 * Stable audit event codes. Never rename one: SIEM rules and reports match on them. Each is
 * described in docs/audit-events.md (a test keeps the two lists equal).
 */
export const AuditEventCode = {
  /** authorize() allowed an action. */
  ACCESS_GRANTED: 'access.granted',
  /** authorize() refused an action. */
  ACCESS_DENIED: 'access.denied',
  /** A request or upgrade came with a missing or unknown token. */
  AUTH_FAILED: 'auth.failed',
  USER_CREATED: 'user.created',
  USER_DELETED: 'user.deleted',
  USER_TOKEN_ROTATED: 'user.token_rotated',
  /** The relay admin blocked a user (its token is refused) or unblocked it. */
  USER_BLOCKED: 'user.blocked',
  USER_UNBLOCKED: 'user.unblocked',
  /** The relay admin changed a user's role on the relay (admin or member). */
  USER_ROLE_CHANGED: 'user.role_changed',
  /** The relay admin disabled a tunnel (no hosting, no connects) or enabled it again. */
  TUNNEL_DISABLED: 'tunnel.disabled',
  TUNNEL_ENABLED: 'tunnel.enabled',
  /** The relay admin ended one stream (a session of the dashboard's Sessions page). */
  STREAM_TERMINATED: 'stream.terminated',
  /** Connections closed because the credential behind them stopped being valid. */
  LINKS_REVOKED: 'links.revoked',
  /** A tunnel name was claimed by its first host. */
  TUNNEL_CLAIMED: 'tunnel.claimed',
  /** A tunnel name was released (deleted) by its owner or the admin. */
  TUNNEL_DELETED: 'tunnel.deleted',
  /** A host registered a tunnel on this relay and it became reachable. */
  TUNNEL_ONLINE: 'tunnel.online',
  /** The host of a tunnel left (closed, going away, or replaced). */
  TUNNEL_OFFLINE: 'tunnel.offline',
  /** A silent host link was replaced by a new connection of the same identity. */
  HOST_REPLACED: 'tunnel.host_replaced',
  /** A tunnel's sharing settings (approval, approvals needed, longest grant) were changed. */
  TUNNEL_SETTINGS_CHANGED: 'tunnel.settings_changed',
  /** A member was given a role (directly, by an invite, or by an approved request) or had it changed. */
  MEMBER_GRANTED: 'member.granted',
  /** A member's grant was removed. */
  MEMBER_REMOVED: 'member.removed',
  /** A member was blocked on a tunnel (an explicit deny), or unblocked. */
  MEMBER_BLOCKED: 'member.blocked',
  MEMBER_UNBLOCKED: 'member.unblocked',
  /** Streams were reset because their access ended (grant removed, blocked, lapsed). */
  STREAMS_REVOKED: 'streams.revoked',
  /** An open stream ended (closed, reset, or its link gone): bytes each way and how long it lasted. */
  STREAM_CLOSED: 'stream.closed',
  /** A stream was reset because its protocol is not on its tunnel's allow-list (`tether share --allow`). */
  PROTOCOL_REFUSED: 'stream.protocol_refused',
  /** A limit refused a connection: links per user or per address, host registrations per minute. */
  LIMIT_REFUSED: 'limit.refused',
  /** The relay started (its version, node id and the limits it runs with). */
  RELAY_STARTED: 'relay.started',
  /** The relay stopped (drained and closed). */
  RELAY_STOPPED: 'relay.stopped',
  /** Records older than the retention period were archived and pruned (a prune checkpoint keeps the tree going). */
  AUDIT_PRUNED: 'audit.pruned',
  INVITE_CREATED: 'invite.created',
  INVITE_REVOKED: 'invite.revoked',
  INVITE_ACCEPTED: 'invite.accepted',
  /** An invite code was refused (malformed, forged, revoked, expired, used up, someone else's). */
  INVITE_REFUSED: 'invite.refused',
  REQUEST_CREATED: 'request.created',
  /** One reviewer approved or denied a request (the request may still need more approvals). */
  REQUEST_REVIEWED: 'request.reviewed',
  REQUEST_APPROVED: 'request.approved',
  REQUEST_DENIED: 'request.denied',
  /** An admin signed in to the relay dashboard (a session cookie was issued). */
  ADMIN_SIGNED_IN: 'admin.signed_in',
  /** An admin signed out of the relay dashboard. */
  ADMIN_SIGNED_OUT: 'admin.signed_out',
} as const;

export type AuditEventCode = (typeof AuditEventCode)[keyof typeof AuditEventCode];
