import type { TunnelSettings } from '@tether/shared';

/**
 * Who serves a tunnel right now: leases naming the node and the host link on it. On one relay the
 * registry lives in memory; in a cluster it is shared (Redis), so any node can find the nodes
 * that hold a tunnel. A host whose pool links it to several nodes of one cluster holds one lease
 * per node, and is reachable through each. Leases expire unless renewed, so a dead node's routes
 * are not followed for longer than a lease.
 */
export interface TunnelLease {
  tunnel: string;
  /** The relay node holding the host link. */
  nodeId: string;
  /** The host link on that node (unique per node). */
  linkId: number;
  /** The identity that hosts it (the owner when it registered). */
  hostId: number;
  /** What the host asked of the relay for this tunnel (HTTP ingress, allowed protocols, UDP). */
  settings?: TunnelSettings;
  /** Wall-clock ms when the lease lapses unless renewed. */
  expiresAt: number;
}

export type LeaseClaim = Omit<TunnelLease, 'expiresAt'>;

export interface ClaimResult {
  granted: boolean;
  /** The lease in force: the new one when granted, the one in the way otherwise. */
  lease: TunnelLease;
}

export interface TunnelRegistry {
  /**
   * Takes `tunnel` on `claim.nodeId` for the claimant's link. Refused while a live lease of
   * another link on the same node holds it, or a live lease anywhere names another host identity
   * (one tunnel, one host: its links to several nodes are the same identity).
   */
  claim(claim: LeaseClaim): Promise<ClaimResult>;
  /**
   * Extends the leases of these links on `nodeId` (a lapsed one nobody took is taken again);
   * resolves the tunnels no longer held by them.
   */
  renew(nodeId: string, leases: readonly LeaseClaim[]): Promise<string[]>;
  /** Gives `tunnel` up on `nodeId` if `linkId` there still holds it. */
  release(tunnel: string, nodeId: string, linkId: number): Promise<void>;
  /** The live leases of `tunnel` (one per node holding it), oldest claim first; empty if none. */
  lookup(tunnel: string): Promise<TunnelLease[]>;
  /** The live leases of several tunnels at once (listings), keyed by tunnel name; absent if none. */
  lookupMany(tunnels: readonly string[]): Promise<Map<string, TunnelLease[]>>;
  close(): Promise<void>;
}
