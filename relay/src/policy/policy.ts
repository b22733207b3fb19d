import { ErrorCode } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { Store, TunnelRecord } from '../ports/store.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { decide } from './decide.js';
import { GrantCache, TunnelCache } from './tunnel-cache.js';
import type { GrantRecord, TunnelRole } from '../ports/team-store.js';
import { liveGrant } from './roles.js';
import { describeResource, type Action, type Decision, type Identity, type Resource, type TunnelDecision } from './decision.js';

export interface PolicyOptions {
  /** Tunnel names one identity may hold (the admin: no limit). */
  maxTunnelsPerUser?: number;
  clock?: Clock;
  /** How long a tunnel record read for a stream open is reused (ms). */
  cacheMs?: number;
}

/**
 * The one place that decides access. It reads the facts a rule needs (grants live in the store;
 * nothing outside this folder reads them: see the lint rule in eslint.config.mjs), applies
 * `decide`, and hands every decision to the audit sink with a stable code.
 */
export class Policy {
  private readonly store: Store;
  private readonly auditor: Auditor;

  private readonly maxTunnelsPerUser: number;
  private readonly cache: TunnelCache;
  private readonly grants: GrantCache;
  private readonly clock: Clock;

  constructor(store: Store, auditor: Auditor, options: PolicyOptions = {}) {
    this.store = store;
    this.auditor = auditor;
    this.maxTunnelsPerUser = options.maxTunnelsPerUser ?? Infinity;
    this.clock = options.clock ?? systemClock;
    this.cache = new TunnelCache(store, this.clock, options.cacheMs ?? 1000);
    this.grants = new GrantCache(store, this.clock, options.cacheMs ?? 1000);
  }

  /**
   * Decides whether `subject` may do `action` on `resource`; the tunnel read is returned along.
   * Stream opens read tunnels through a short cache; every other action reads the store.
   */
  async authorize(subject: Identity, action: Action, resource: Resource): Promise<TunnelDecision> {
    let tunnel: TunnelRecord | undefined;
    let grant: GrantRecord | undefined;
    if (resource.kind === 'tunnel') {
      const hot = action === 'tunnel.connect';
      tunnel = hot ? await this.cache.get(resource.name) : await this.store.getTunnel(resource.name);
      // A member's standing matters only to someone who is neither the owner nor the admin.
      if (tunnel && tunnel.ownerId !== subject.id && !subject.admin && !subject.peer && !subject.visitor && action !== 'tunnel.host') {
        grant = hot ? await this.grants.get(GrantCache.key(resource.name, subject.id)) : await this.store.getGrant(resource.name, subject.id);
      }
    }
    return this.decided(subject, action, resource, tunnel, grant);
  }

  /**
   * Whether anyone owns the name `tunnel` (through the short cache): what the HTTP ingress tells
   * apart as "offline" and "no such tunnel". Nothing is decided, so nothing is audited.
   */
  async tunnelClaimed(tunnel: string): Promise<boolean> {
    return (await this.cache.get(tunnel)) !== undefined;
  }

  /** A grant on `tunnel` changed (here or on another node): its cached copy may not be used again. */
  forgetGrant(tunnel: string, userId: number): void {
    this.grants.invalidate(GrantCache.key(tunnel, userId));
  }

  /** A tunnel was deleted (on another node): its cached record may not be used again. */
  forgetTunnel(name: string): void {
    this.cache.invalidate(name);
  }

  /** A user and the tunnels it owned are gone: nothing cached about them may be used again. */
  forgetUsers(): void {
    this.cache.clear();
    this.grants.clear();
  }

  /**
   * Host registration: decides, and claims the name when it is free. Two identities racing for
   * one new name: the loser is refused as the name's owner now dictates.
   */
  async authorizeHost(subject: Identity, name: string): Promise<TunnelDecision> {
    const resource: Resource = { kind: 'tunnel', name };
    const decision = await this.authorize(subject, 'tunnel.host', resource);
    if (!decision.allow || decision.tunnel) return decision;
    // A new name counts against the identity's quota of names (the admin has none).
    if (!subject.admin && (await this.store.listTunnels(subject.id)).length >= this.maxTunnelsPerUser) {
      const quota: Decision = { allow: false, rule: 'quota', code: ErrorCode.QUOTA_EXCEEDED, reason: `${subject.name} holds ${this.maxTunnelsPerUser} tunnel names already (the most allowed): free one with tether tunnel delete NAME` };
      this.auditor.record(AuditEventCode.ACCESS_DENIED, subject, 'tunnel.host', describeResource(resource), { rule: quota.rule, reason: quota.reason });
      return quota;
    }
    const claimed = await this.store.claimTunnel(name, subject.id);
    this.cache.invalidate(name);
    if (claimed.ownerId !== subject.id) return this.decided(subject, 'tunnel.host', resource, claimed);
    this.auditor.record(AuditEventCode.TUNNEL_CLAIMED, subject, 'tunnel.host', describeResource(resource));
    return { ...decision, tunnel: claimed };
  }

  /** Releases a tunnel name (after a `tunnel.delete` decision allowed it). */
  async releaseTunnel(subject: Identity, name: string): Promise<void> {
    const deleted = await this.store.deleteTunnel(name);
    this.cache.invalidate(name);
    this.grants.clear();
    if (deleted) this.auditor.record(AuditEventCode.TUNNEL_DELETED, subject, 'tunnel.delete', `tunnel:${name}`);
  }

  /**
   * The tunnels `subject` may see in a listing, each with the subject's role on it: its own, and
   * those it holds a live, unblocked grant on (the admin: all). Audited like any decision.
   */
  async visibleTunnels(subject: Identity): Promise<(TunnelRecord & { role: TunnelRole | 'owner' | 'relay-admin' })[]> {
    const decision = this.decided(subject, 'tunnels.list', { kind: 'relay' }, undefined);
    if (decision.scope === 'all') return (await this.store.listTunnels()).map((t) => ({ ...t, role: t.ownerId === subject.id ? 'owner' : 'relay-admin' }));
    const now = this.clock.now();
    const [own, grants] = await Promise.all([this.store.listTunnels(subject.id), this.store.listGrantsOfUser(subject.id)]);
    const shared = await Promise.all(
      grants.filter((g) => liveGrant(g, now) && !g.blocked).map(async (g) => {
        const tunnel = await this.store.getTunnel(g.tunnel);
        return tunnel ? { ...tunnel, role: g.role } : undefined;
      }),
    );
    const all = [...own.map((t) => ({ ...t, role: 'owner' as const })), ...shared.filter((t) => t !== undefined)];
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  private decided(subject: Identity, action: Action, resource: Resource, tunnel: TunnelRecord | undefined, grant?: GrantRecord): TunnelDecision {
    const decision: Decision = decide(subject, action, resource, { tunnel, grant, now: this.clock.now() });
    this.auditor.record(decision.allow ? AuditEventCode.ACCESS_GRANTED : AuditEventCode.ACCESS_DENIED, subject, action, describeResource(resource), {
      rule: decision.rule,
      reason: decision.reason,
    });
    return tunnel ? { ...decision, tunnel } : decision;
  }
}

/**
 * Whether a host link registered by identity `hostId` may still serve `tunnel`: only while that
 * identity owns it (a user deleted and the name claimed again must not reach the old host).
 */
export function mayServe(hostId: number, tunnel: TunnelRecord | undefined): boolean {
  return tunnel !== undefined && tunnel.ownerId === hostId;
}
