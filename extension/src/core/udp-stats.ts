/** Why a UDP end dropped a datagram (docs/udp.md). */
export type UdpDrop =
  /** Larger than the datagram limit. */
  | 'too_large'
  /** The relay connection was congested: datagrams are dropped, never queued behind streams. */
  | 'congested'
  /** A new flow's datagrams beyond what is held until its stream is accepted. */
  | 'queue_full'
  /** A listener already carries its most flows. */
  | 'flow_limit'
  /** The flow's open failed (the tunnel is offline, refused, …): dropped until it is tried again. */
  | 'open_failed'
  /** The local UDP socket had too many sends waiting. */
  | 'socket_busy'
  /** For no flow of ours (late, after its flow ended). */
  | 'unknown_flow';

/** What a UDP listener or target has carried and dropped since it started. */
export interface UdpStats {
  /** Flows open now. */
  flows: number;
  /** Flows opened since the start. */
  flowsOpened: number;
  /** Datagrams sent towards the host (up) and back (down). */
  up: number;
  down: number;
  dropped: Partial<Record<UdpDrop, number>>;
}

export function emptyUdpStats(): UdpStats {
  return { flows: 0, flowsOpened: 0, up: 0, down: 0, dropped: {} };
}

export function countDrop(stats: UdpStats, why: UdpDrop): void {
  stats.dropped[why] = (stats.dropped[why] ?? 0) + 1;
}

/** Total datagrams dropped, whatever the reason. */
export function totalDropped(stats: UdpStats): number {
  return Object.values(stats.dropped).reduce((n, v) => n + (v ?? 0), 0);
}

/** "12 flows, 2,000 up, 1,998 down, 3 dropped (congested 2, too_large 1)". */
export function describeUdpStats(stats: UdpStats): string {
  const reasons = Object.entries(stats.dropped).filter(([, n]) => (n ?? 0) > 0).map(([why, n]) => `${why} ${n}`);
  const n = (v: number): string => v.toLocaleString('en-US');
  return `${n(stats.flowsOpened)} flow${stats.flowsOpened === 1 ? '' : 's'}, ${n(stats.up)} datagrams up, ${n(stats.down)} down, ${n(totalDropped(stats))} dropped${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
}

/** Asks for larger kernel buffers (see UdpDefaults.socketBufferBytes); a refusal keeps the system's. */
export function enlargeBuffers(socket: { setRecvBufferSize(size: number): void; setSendBufferSize(size: number): void }, bytes: number): void {
  try {
    socket.setRecvBufferSize(bytes);
    socket.setSendBufferSize(bytes);
  } catch {
    // Not fatal: the system's default buffers still work, with more drops under bursts.
  }
}
