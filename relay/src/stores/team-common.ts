import type { GrantRecord, InviteRecord, InviteRefusal } from '../ports/team-store.js';

/**
 * What both stores' team parts share, so SQLite and Redis name, order and judge records the same
 * way (the contract suite checks they do).
 */

/** A user's display name: 0 is the relay admin; an id whose user is gone shows as `#ID`. */
export const displayName = (id: number, name: string | null | undefined): string => (id === 0 ? 'admin' : (name ?? `#${id}`));

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A tunnel's grants, by user name (then id, for the `#ID` of vanished users). */
export const byUserName = (a: GrantRecord, b: GrantRecord): number => compare(a.userName, b.userName) || a.userId - b.userId;

/** A user's grants, by tunnel name. */
export const byTunnel = (a: GrantRecord, b: GrantRecord): number => compare(a.tunnel, b.tunnel);

/** Newest first: creation time, then the insertion sequence for records made in the same millisecond. */
export const newestFirst = <T extends { createdAt: string; seq: number }>(a: T, b: T): number => compare(b.createdAt, a.createdAt) || b.seq - a.seq;

/** Why `userId` may not use the invite at `now` (ISO strings compare as times), or undefined if it may. */
export function inviteRefusal(invite: InviteRecord, userId: number, now: string): InviteRefusal | undefined {
  if (invite.revoked) return 'revoked';
  if (invite.expiresAt <= now) return 'expired';
  if (invite.uses >= invite.maxUses) return 'used-up';
  if (invite.userId !== null && invite.userId !== userId) return 'wrong-user';
  return undefined;
}

/** `now` + `ms`, as an ISO string. */
export const addMs = (now: string, ms: number): string => new Date(Date.parse(now) + ms).toISOString();
