import type { Clock } from '../ports/clock.js';
import type { ClaimResult, LeaseClaim, TunnelLease, TunnelRegistry } from '../ports/tunnel-registry.js';

/**
 * The single-node registry: leases in Maps (tunnel → node → lease). A lease lapses `leaseMs`
 * after its last claim or renewal (checked on read, against the injected clock), like the shared
 * registry of a cluster.
 */
export class MemoryTunnelRegistry implements TunnelRegistry {
  private readonly leases = new Map<string, Map<string, TunnelLease>>();
  private readonly clock: Clock;
  private readonly leaseMs: number;

  constructor(clock: Clock, leaseMs: number) {
    this.clock = clock;
    this.leaseMs = leaseMs;
  }

  async claim(claim: LeaseClaim): Promise<ClaimResult> {
    const holders = this.live(claim.tunnel);
    const inTheWay = holders.find((l) => l.hostId !== claim.hostId || (l.nodeId === claim.nodeId && l.linkId !== claim.linkId));
    if (inTheWay) return { granted: false, lease: inTheWay };
    return { granted: true, lease: this.put(claim) };
  }

  async renew(nodeId: string, leases: readonly LeaseClaim[]): Promise<string[]> {
    const lost: string[] = [];
    for (const claim of leases) {
      const holders = this.live(claim.tunnel);
      const mine = holders.find((l) => l.nodeId === nodeId);
      // A lease that lapsed (the event loop stalled past it) is taken again if nobody took it.
      const taken = mine ? mine.linkId !== claim.linkId : holders.some((l) => l.hostId !== claim.hostId);
      if (taken) lost.push(claim.tunnel);
      else this.put({ ...claim, nodeId });
    }
    return lost;
  }

  async release(tunnel: string, nodeId: string, linkId: number): Promise<void> {
    const byNode = this.leases.get(tunnel);
    if (byNode?.get(nodeId)?.linkId !== linkId) return;
    byNode.delete(nodeId);
    if (byNode.size === 0) this.leases.delete(tunnel);
  }

  async lookup(tunnel: string): Promise<TunnelLease[]> {
    return this.live(tunnel);
  }

  async lookupMany(tunnels: readonly string[]): Promise<Map<string, TunnelLease[]>> {
    const found = new Map<string, TunnelLease[]>();
    for (const tunnel of tunnels) {
      const leases = this.live(tunnel);
      if (leases.length > 0) found.set(tunnel, leases);
    }
    return found;
  }

  async close(): Promise<void> {
    this.leases.clear();
  }

  private put(claim: LeaseClaim): TunnelLease {
    let byNode = this.leases.get(claim.tunnel);
    if (!byNode) this.leases.set(claim.tunnel, (byNode = new Map<string, TunnelLease>()));
    const lease = { ...claim, expiresAt: this.clock.now() + this.leaseMs };
    // Map order is insertion order: a renewal keeps its place, so the oldest claim comes first.
    byNode.set(claim.nodeId, lease);
    return lease;
  }

  /** The live leases of `tunnel`; lapsed ones are dropped on the way. */
  private live(tunnel: string): TunnelLease[] {
    const byNode = this.leases.get(tunnel);
    if (!byNode) return [];
    const now = this.clock.now();
    for (const [node, lease] of byNode) if (lease.expiresAt <= now) byNode.delete(node);
    if (byNode.size === 0) this.leases.delete(tunnel);
    return [...byNode.values()];
  }
}
