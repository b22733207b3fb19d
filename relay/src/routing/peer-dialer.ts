import type { Link } from './link.js';

/**
 * How the router reaches another node of the cluster: one peer link per node, opened on first
 * use and shared by every stream this node carries there. Single relays have none.
 */
export interface PeerDialer {
  /** A usable link to node `nodeId`, opened if needed; rejects with a coded error saying why not. */
  linkTo(nodeId: string): Promise<Link>;
  /** Whether a usable link to `nodeId` is open right now (such holders are tried first). */
  has(nodeId: string): boolean;
}
