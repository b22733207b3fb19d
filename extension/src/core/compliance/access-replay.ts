import type { EvidenceRecord } from './evidence-types.js';

/** One holder of access to a tunnel at a moment, as the log's events left it. */
export interface AccessHolder {
  tunnel: string;
  user: string;
  /** `owner` for the tunnel's owner, else the member's role (`connect`, `view`, `admin`, …). */
  role: string;
  /** `owner`, or how the grant came: `direct`, `invite`, `request`. */
  source: string;
  /** When this holding began (the first grant since the user last lost access to the tunnel). */
  since: string;
  /** When it was last granted or changed. */
  changedAt: string;
  /** When it ends; null: never. */
  expiresAt: string | null;
  /** Who gave it (the actor of the latest grant). */
  grantedBy: string;
}

/** How access ended. */
export type RemovalHow = 'removed' | 'blocked' | 'expired' | 'user-deleted' | 'tunnel-deleted';

export interface AccessEnd {
  time: string;
  /** The record that ended it; null when it lapsed (no record marks an expiry). */
  index: number | null;
  tunnel: string;
  user: string;
  role: string;
  how: RemovalHow;
  by: string;
}

/** `user:alice` → `alice`; other actors as they are. */
export const userOf = (actor: string): string => (actor.startsWith('user:') ? actor.slice(5) : actor);
/** `tunnel:web` → `web`, or undefined for another target. */
export const tunnelOf = (target: string): string | undefined => (target.startsWith('tunnel:') ? target.slice(7) : undefined);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/**
 * Who holds access to what, replayed from the log's events in index order: owners from
 * `tunnel.claimed` (until `tunnel.deleted` or their `user.deleted`), members from
 * `member.granted` (until `member.removed`, `member.blocked`, their expiry, or their user's or
 * tunnel's deletion). The relay's own tables are not read: the log is the evidence.
 */
export class AccessReplay {
  private readonly holders = new Map<string, AccessHolder>();
  /** Ends of access, in the order they happened. */
  readonly ends: AccessEnd[] = [];

  private static key(tunnel: string, user: string): string {
    return `${tunnel}\u0000${user}`;
  }

  /** Lapses grants whose expiry is at or before `time`. */
  advanceTo(time: string): void {
    const now = Date.parse(time);
    const lapsed = [...this.holders.values()].filter((h) => h.expiresAt !== null && Date.parse(h.expiresAt) <= now);
    lapsed.sort((a, b) => Date.parse(a.expiresAt!) - Date.parse(b.expiresAt!));
    for (const h of lapsed) this.end(h, { time: h.expiresAt!, index: null, how: 'expired', by: 'expiry' });
  }

  /** Applies one record (after `advanceTo(record.time)`). */
  apply(record: EvidenceRecord): void {
    const tunnel = tunnelOf(record.target);
    const detail = record.details?.detail ?? {};
    const member = text(detail.user);
    switch (record.event) {
      case 'tunnel.claimed': {
        if (!tunnel) return;
        const owner = userOf(record.actor);
        this.holders.set(AccessReplay.key(tunnel, owner), { tunnel, user: owner, role: 'owner', source: 'owner', since: record.time, changedAt: record.time, expiresAt: null, grantedBy: record.actor });
        return;
      }
      case 'member.granted': {
        if (!tunnel || !member) return;
        const key = AccessReplay.key(tunnel, member);
        const before = this.holders.get(key);
        const expires = text(detail.expiresAt);
        this.holders.set(key, {
          tunnel,
          user: member,
          role: text(detail.role) ?? 'unknown',
          source: text(detail.source) ?? 'unknown',
          since: before?.since ?? record.time,
          changedAt: record.time,
          expiresAt: expires === undefined || expires === 'never' ? null : expires,
          grantedBy: record.actor,
        });
        return;
      }
      case 'member.removed':
      case 'member.blocked': {
        const holder = tunnel && member ? this.holders.get(AccessReplay.key(tunnel, member)) : undefined;
        if (holder) this.end(holder, { time: record.time, index: record.index, how: record.event === 'member.removed' ? 'removed' : 'blocked', by: record.actor });
        return;
      }
      case 'tunnel.deleted':
        for (const h of this.list()) if (h.tunnel === tunnel) this.end(h, { time: record.time, index: record.index, how: 'tunnel-deleted', by: record.actor });
        return;
      case 'user.deleted': {
        if (!record.target.startsWith('user:')) return;
        const gone = record.target.slice(5);
        // The user's own holdings, and every holding on the tunnels they owned (released with them).
        const owned = new Set(this.list().filter((h) => h.user === gone && h.role === 'owner').map((h) => h.tunnel));
        for (const h of this.list()) if (h.user === gone || owned.has(h.tunnel)) this.end(h, { time: record.time, index: record.index, how: h.user === gone ? 'user-deleted' : 'tunnel-deleted', by: record.actor });
        return;
      }
      default:
    }
  }

  /** The holders now, by tunnel then user. */
  list(): AccessHolder[] {
    return [...this.holders.values()].sort((a, b) => a.tunnel.localeCompare(b.tunnel) || a.user.localeCompare(b.user));
  }

  private end(holder: AccessHolder, how: Omit<AccessEnd, 'tunnel' | 'user' | 'role'>): void {
    this.holders.delete(AccessReplay.key(holder.tunnel, holder.user));
    this.ends.push({ tunnel: holder.tunnel, user: holder.user, role: holder.role, ...how });
  }
}
