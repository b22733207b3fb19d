import type { SessionView } from '@tether/shared';
import type { Link } from './link.js';

export type { SessionView };

/** A host link on this node (the dashboard's Tunnels page: holders). */
export interface HolderView {
  tunnel: string;
  node: string;
  user: string;
  address: string;
  client: string | null;
  /** ISO 8601 time the host link was attached. */
  since: string;
  streams: number;
  bytesIn: number;
  bytesOut: number;
}

/** The node id a peer link leads to (its identity is `node:ID`). */
const peerNode = (link: Link): string => link.identity.name.replace(/^node:/, '');

/**
 * The streams whose connector is on this node, one row each. A stream carried in from another
 * node (its opener a peer link) is that node's row, not this one's.
 */
export function sessionViews(links: Iterable<Link>, node: string, wallNow: number, monotonicNow: number): SessionView[] {
  const rows: SessionView[] = [];
  for (const link of links) {
    if (!link.role.opens || link.role.relayed) continue;
    for (const end of link.streams.values()) {
      const route = end.route;
      if (route.opener !== end) continue;
      const acceptor = route.acceptor.link;
      rows.push({
        id: `${node}:${link.linkId}:${end.id}`,
        node,
        tunnel: route.tunnel,
        user: link.identity.name,
        source: link.address,
        client: link.client ?? null,
        path: acceptor.role.name === 'peer' ? [node, peerNode(acceptor)] : [node],
        startedAt: new Date(wallNow - (monotonicNow - route.startedAt)).toISOString(),
        up: route.up,
        down: route.down,
        protocol: route.sniff?.sniffer.result?.protocol ?? null,
        open: end.open,
        udp: route.udp === true,
      });
    }
  }
  return rows;
}

/** The host links on this node, one per tunnel it serves here. */
export function holderViews(links: Iterable<Link>, node: string): HolderView[] {
  const rows: HolderView[] = [];
  for (const link of links) {
    if (link.role.name !== 'host' || link.tunnel === undefined || link.closed) continue;
    rows.push({
      tunnel: link.tunnel,
      node,
      user: link.identity.name,
      address: link.address,
      client: link.client ?? null,
      since: new Date(link.attachedAt).toISOString(),
      streams: link.streams.size,
      bytesIn: link.bytesIn,
      bytesOut: link.bytesOut,
    });
  }
  return rows;
}

/** A session id split into its node, link and stream (the node id may itself hold colons). */
export function parseSessionId(id: string): { node: string; linkId: number; streamId: number } | undefined {
  const match = /^(.{1,200}):(\d{1,15}):(\d{1,15})$/.exec(id);
  if (!match) return undefined;
  return { node: match[1], linkId: Number(match[2]), streamId: Number(match[3]) };
}
