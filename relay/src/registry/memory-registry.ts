import type { Clock } from '../ports/clock.js';
import type { ClaimResult, LeaseClaim, TunnelLease, TunnelRegistry } from '../ports/tunnel-registry.js';

/**
 * The single-node registry: leases in a Map. A lease lapses `leaseMs` after its last claim or
 * renewal (checked on read, against the injected clock), like the shared registry of a cluster.
 */
export class MemoryTunnelRegistry implements TunnelRegistry {
  private readonly leases = new Map<string, TunnelLease>();
  private readonly clock: Clock;
  private readonly leaseMs: number;

  constructor(clock: Clock, leaseMs: number) {
    this.clock = clock;
    this.leaseMs = leaseMs;
  }

  async claim(claim: LeaseClaim): Promise<ClaimResult> {
    const current = this.live(claim.tunnel);
    if (current && !(current.nodeId === claim.nodeId && current.linkId === claim.linkId)) {
      return { granted: false, lease: current };
    }
    const lease = { ...claim, expiresAt: this.clock.now() + this.leaseMs };
    this.leases.set(claim.tunnel, lease);
    return { granted: true, lease };
  }

  async renew(nodeId: string, leases: readonly LeaseClaim[]): Promise<string[]> {
    const lost: string[] = [];
    const expiresAt = this.clock.now() + this.leaseMs;
    for (const claim of leases) {
      const current = this.live(claim.tunnel);
      // A lease that lapsed (the event loop stalled past it) is taken again if nobody took it.
      if (!current || (current.nodeId === nodeId && current.linkId === claim.linkId)) this.leases.set(claim.tunnel, { ...claim, expiresAt });
      else lost.push(claim.tunnel);
    }
    return lost;
  }

  async release(tunnel: string, nodeId: string, linkId: number): Promise<void> {
    const current = this.leases.get(tunnel);
    if (current && current.nodeId === nodeId && current.linkId === linkId) this.leases.delete(tunnel);
  }

  async lookup(tunnel: string): Promise<TunnelLease | undefined> {
    return this.live(tunnel);
  }

  async lookupMany(tunnels: readonly string[]): Promise<Map<string, TunnelLease>> {
    const found = new Map<string, TunnelLease>();
    for (const tunnel of tunnels) {
      const lease = this.live(tunnel);
      if (lease) found.set(tunnel, lease);
    }
    return found;
  }

  async close(): Promise<void> {
    this.leases.clear();
  }

  private live(tunnel: string): TunnelLease | undefined {
    const lease = this.leases.get(tunnel);
    if (!lease) return undefined;
    if (lease.expiresAt > this.clock.now()) return lease;
    this.leases.delete(tunnel);
    return undefined;
  }
}
