/** One stream as the relay admin sees it (the dashboard's Sessions page). */
export interface SessionView {
  /** `NODE:LINK:STREAM`: what terminating it names. */
  id: string;
  /** The node where its connector is (where it is terminated). */
  node: string;
  tunnel: string;
  user: string;
  /** The connector's address, and what client it said it is. */
  source: string;
  client: string | null;
  /** The nodes it crosses: this one, then the node holding the host when that is another. */
  path: string[];
  /** ISO 8601 time it was opened. */
  startedAt: string;
  /** Payload bytes from the connector to the host (up) and back (down). */
  up: number;
  down: number;
  /** What its first bytes speak (docs/protocols.md), once known. */
  protocol: string | null;
  /** True once the host accepted it. */
  open: boolean;
  udp: boolean;
}
