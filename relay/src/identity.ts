/** Who a request or connection acts as. The admin is an identity of its own, not a user row. */
export interface Identity {
  /** 'admin' for the admin token, otherwise the user name. */
  name: string;
  /** Stable id: 0 for the admin, the user row id otherwise. */
  id: number;
  admin: boolean;
  /**
   * Another node of the cluster, authenticated by the cluster secret: it carries streams its own
   * connectors opened (and it authorized) to hosts linked to this node.
   */
  peer?: true;
  /**
   * A visitor of one tunnel's public URL (HTTP ingress, docs/http.md) that the tunnel lets in
   * without a user (access public, or its access token shown): it may open streams to that
   * tunnel only, and only while the tunnel's host still shares it that way.
   */
  visitor?: { tunnel: string; access: 'public' | 'token' };
}

/**
 * The identity of visitors of `tunnel`'s public URL let in by its access mode. Its id is negative
 * (never a user's) and one per tunnel, so that the visitors of one tunnel do not use up another's
 * per-identity limits.
 */
export function visitorIdentity(tunnel: string, access: 'public' | 'token'): Identity {
  let h = 0x811c9dc5;
  for (let i = 0; i < tunnel.length; i++) h = Math.imul(h ^ tunnel.charCodeAt(i), 0x01000193) >>> 0;
  return Object.freeze({ name: `visitor:${tunnel}`, id: -(1_000_000 + h), admin: false, visitor: Object.freeze({ tunnel, access }) });
}

/** The identity of the cluster node `nodeId` on a peer link (never a user: id -1). */
export function peerIdentity(nodeId: string): Identity {
  return Object.freeze({ name: `node:${nodeId}`, id: -1, admin: false, peer: true as const });
}

export const ADMIN_IDENTITY: Identity = Object.freeze({ name: 'admin', id: 0, admin: true });
