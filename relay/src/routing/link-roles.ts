/**
 * What a link may do, as data: the router asks the role instead of branching on a kind, so a new
 * kind of route end (a peer relay node that both opens and accepts streams) is one more entry.
 */
export interface LinkRole {
  readonly name: 'host' | 'connector' | 'peer';
  /** The peer may open streams (send OPEN) on this link. */
  readonly opens: boolean;
  /** The relay may open streams towards the peer (it serves tunnels). */
  readonly accepts: boolean;
  /** Parity of the stream ids the peer picks for its own opens (1: odd). */
  readonly peerIdParity: 0 | 1;
  /** First id the relay gives streams it opens on this link (then +2 each). */
  readonly firstLocalId: number;
  /** What the far ends of its streams are told when the link goes. */
  readonly goneReason: string;
  /**
   * Its OPENs were decided by another node of the cluster, which carries them here for its own
   * connectors: they are routed to local hosts only, never on to a third node (no loops).
   */
  readonly relayed: boolean;
}

export const LinkRoles = {
  host: { name: 'host', opens: false, accepts: true, peerIdParity: 1, firstLocalId: 2, goneReason: 'host disconnected', relayed: false },
  connector: { name: 'connector', opens: true, accepts: false, peerIdParity: 1, firstLocalId: 2, goneReason: 'connector disconnected', relayed: false },
  /**
   * This node's link to another node that holds tunnels its connectors want: this node opens
   * streams on it (even ids) as it would on a host link. One per node pair and direction.
   */
  peerOut: { name: 'peer', opens: false, accepts: true, peerIdParity: 1, firstLocalId: 2, goneReason: 'the relay node serving the tunnel went away', relayed: false },
  /** Another node's link to this one (its peerOut): it opens streams with even ids, like a connector. */
  peerIn: { name: 'peer', opens: true, accepts: false, peerIdParity: 0, firstLocalId: 1, goneReason: "the connector's relay node went away", relayed: true },
} as const satisfies Record<string, LinkRole>;

export type LinkKind = keyof typeof LinkRoles;
