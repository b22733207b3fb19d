/**
 * Who serves a tunnel right now: a lease naming the node and the link on it. On one relay the
 * registry lives in memory; in a cluster it is shared (Redis), so any node can find the node
 * that holds a tunnel. Leases expire unless renewed, so a dead node's routes are not followed
 * for long.
 */
export interface TunnelLease {
  tunnel: string;
  /** The relay node holding the host link. */
  nodeId: string;
  /** The host link on that node (unique per node). */
  linkId: number;
  /** The identity that hosts it (the owner when it registered). */
  hostId: number;
  /** Wall-clock ms when the lease lapses unless renewed. */
  expiresAt: number;
}

export type LeaseClaim = Omit<TunnelLease, 'expiresAt'>;

export interface ClaimResult {
  granted: boolean;
  /** The lease in force: the new one when granted, the holder's otherwise. */
  lease: TunnelLease;
}

export interface TunnelRegistry {
  /** Takes `tunnel` for the claimant unless a live lease of another link holds it. */
  claim(claim: LeaseClaim): Promise<ClaimResult>;
  /** Extends the leases of these links on `nodeId`; resolves the tunnels no longer held by them. */
  renew(nodeId: string, leases: readonly LeaseClaim[]): Promise<string[]>;
  /** Gives `tunnel` up if `linkId` on `nodeId` still holds it. */
  release(tunnel: string, nodeId: string, linkId: number): Promise<void>;
  /** The live lease of `tunnel`, if any. */
  lookup(tunnel: string): Promise<TunnelLease | undefined>;
  /** Live leases of several tunnels at once (listings), keyed by tunnel name. */
  lookupMany(tunnels: readonly string[]): Promise<Map<string, TunnelLease>>;
  close(): Promise<void>;
}
