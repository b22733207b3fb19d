import { createError, type ErrorCodeString, type TetherError } from '@tether/shared';
import type { Identity } from '../identity.js';
import type { TunnelRecord } from '../ports/store.js';
import type { GrantRecord, TunnelRole } from '../ports/team-store.js';

/** Every action the relay decides on. */
export type Action =
  /** Open a connector link (`/v1/connect`). */
  | 'relay.connect'
  /** Register as the host of a tunnel (claims an unowned name). */
  | 'tunnel.host'
  /** Open a stream to a tunnel. */
  | 'tunnel.connect'
  /** See one tunnel's status. */
  | 'tunnel.view'
  /** List tunnels (the decision says which). */
  | 'tunnels.list'
  /** Release a tunnel name (its owner, or the relay admin for anyone's). */
  | 'tunnel.delete'
  /** Create, list, rotate or delete users. */
  | 'users.manage'
  /** See the relay's counts (hosts, connectors, streams, bytes) in /readyz. */
  | 'relay.stats'
  /** Manage a tunnel's sharing: members, invites, reviews of access requests, settings. */
  | 'tunnel.manage'
  /** Ask for a role on a tunnel (an access request). */
  | 'tunnel.request';

export type Resource = { kind: 'relay' } | { kind: 'tunnel'; name: string };

/** What the policy knows when it decides: the facts it read from the store. */
export interface Facts {
  tunnel?: TunnelRecord;
  /** The subject's grant on the tunnel, if any (live or not: `now` decides). */
  grant?: GrantRecord;
  /** Wall-clock ms the decision is made at (grant expiry). */
  now?: number;
}

export type Rule =
  | 'admin'
  | 'owner'
  | 'unclaimed-name'
  | 'authenticated'
  | 'list-own'
  | 'no-such-tunnel'
  | 'not-owner'
  | 'not-visible'
  | 'quota'
  | 'not-admin'
  | 'peer-node'
  | 'visitor'
  | 'member'
  | 'role'
  | 'blocked'
  | 'disabled'
  | 'not-member';

/** The outcome of one access decision: allowed or not, by which rule, and why. */
export interface Decision {
  allow: boolean;
  rule: Rule;
  reason: string;
  /** For refusals: the code the caller reports (on the wire or over HTTP). */
  code?: ErrorCodeString;
  /** For `tunnels.list`: whether every tunnel is visible or only the caller's own. */
  scope?: 'all' | 'own';
}

/** A decision together with the tunnel it was about, when there was one. */
export interface TunnelDecision extends Decision {
  tunnel?: TunnelRecord;
  /** The subject's role on the tunnel when it is allowed through one. */
  role?: TunnelRole | 'owner' | 'relay-admin';
  /** An allow through a grant that lapses: when (ms). Streams opened under it end then. */
  until?: number;
}

/** The coded error a refusal is reported as. */
export function refusal(decision: Decision): TetherError {
  return createError(decision.code ?? 'TETHER_ERR_FORBIDDEN', decision.reason);
}

export const describeResource = (resource: Resource): string =>
  resource.kind === 'tunnel' ? `tunnel:${resource.name}` : 'relay';

export type { Identity };
