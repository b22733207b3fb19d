import type { GrantRecord, TunnelRole } from '../ports/team-store.js';
import type { Action } from './decision.js';

/** What each role may do on a tunnel; the owner and the relay admin may do everything. */
export const ROLE_RIGHTS: Readonly<Record<TunnelRole, ReadonlySet<Action>>> = {
  view: new Set<Action>(['tunnel.view']),
  connect: new Set<Action>(['tunnel.view', 'tunnel.connect']),
  admin: new Set<Action>(['tunnel.view', 'tunnel.connect', 'tunnel.manage']),
};

/** Whether `role` may do `action`. */
export const roleAllows = (role: TunnelRole, action: Action): boolean => ROLE_RIGHTS[role].has(action);

/** The grant if it is in force at `now` (ms): not lapsed. A block is in force like any grant. */
export function liveGrant(grant: GrantRecord | undefined, now: number): GrantRecord | undefined {
  if (!grant) return undefined;
  if (grant.expiresAt !== null && Date.parse(grant.expiresAt) <= now) return undefined;
  return grant;
}
