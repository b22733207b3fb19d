/** A user as stored: the token itself is never kept, only its hash. */
export interface UserRecord {
  id: number;
  name: string;
  createdAt: string;
  /** `admin`: the user's token is as good as the admin token (the dashboard, user management). */
  role?: UserRole;
  /** When the relay admin blocked the user (its token is refused until unblocked), or null. */
  blockedAt?: string | null;
}

export type UserRole = 'admin' | 'member';

/** A change to a user's standing on the relay; fields left out stay as they are. */
export interface UserPatch {
  role?: UserRole;
  /** true blocks (now), false unblocks. */
  blocked?: boolean;
}

export interface TunnelRecord {
  name: string;
  ownerId: number;
  ownerName: string;
  createdAt: string;
  lastHostedAt: string | null;
  /** When the relay admin disabled the tunnel (nobody hosts or connects to it until enabled), or null. */
  disabledAt?: string | null;
  disabledReason?: string | null;
}

import type { AuditLogStore } from './audit-log.js';
import type { TeamStore } from './team-store.js';
import type { UsageStore } from './usage-store.js';

/**
 * Persistent state of a relay, behind promises so a networked store (Redis for a cluster) can
 * implement it. The embedded default is SQLite (`stores/sqlite`). Grants (who may do what on a
 * tunnel) are read only by the policy module: a lint rule keeps everyone else out.
 */
export interface Store extends TeamStore {
  /** The append-only audit log (docs/audit.md), in the same database. */
  readonly auditLog: AuditLogStore;
  /** Usage analytics roll-ups (docs/analytics.md), in the same database. */
  readonly usage: UsageStore;
  createUser(name: string, tokenHash: string): Promise<UserRecord>;
  findUserByTokenHash(tokenHash: string): Promise<UserRecord | undefined>;
  findUserByName(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  /** Replaces a user's token hash; false when there is no such user. */
  rotateUserToken(name: string, tokenHash: string): Promise<boolean>;
  /**
   * Deletes the user, the tunnel names it owns (with their grants, invites and requests), and its
   * own grants and requests on other tunnels; false when there is no such user.
   */
  deleteUser(name: string): Promise<boolean>;
  /** Changes a user's role or block; the updated record, or undefined when there is no such user. */
  updateUser(name: string, patch: UserPatch): Promise<UserRecord | undefined>;
  getTunnel(name: string): Promise<TunnelRecord | undefined>;
  /** Claims `name` for `ownerId` if nobody owns it yet; resolves the (possibly existing) record. */
  claimTunnel(name: string, ownerId: number): Promise<TunnelRecord>;
  markTunnelHosted(name: string): Promise<void>;
  listTunnels(ownerId?: number): Promise<TunnelRecord[]>;
  /** Deletes the tunnel name with its grants, invites and requests. */
  deleteTunnel(name: string): Promise<boolean>;
  /** Disables the tunnel with `reason` (a string, maybe empty), or enables it (null); undefined when there is no such tunnel. */
  setTunnelDisabled(name: string, reason: string | null): Promise<TunnelRecord | undefined>;
  /** Resolves when the store answers (readiness); rejects when it cannot. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
