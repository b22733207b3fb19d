/**
 * What a link may do, as data: the router asks the role instead of branching on a kind, so a new
 * kind of route end (a peer relay node that both opens and accepts streams) is one more entry.
 */
export interface LinkRole {
  readonly name: 'host' | 'connector';
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
}

export const LinkRoles = {
  host: { name: 'host', opens: false, accepts: true, peerIdParity: 1, firstLocalId: 2, goneReason: 'host disconnected' },
  connector: { name: 'connector', opens: true, accepts: false, peerIdParity: 1, firstLocalId: 2, goneReason: 'connector disconnected' },
} as const satisfies Record<string, LinkRole>;

export type LinkKind = keyof typeof LinkRoles;
