import type { FastifyBaseLogger } from 'fastify';
import type { LiveTally } from './live-tally.js';
import * as wire from '@tether/shared';
import { CloseCode, createError, ErrorCode, FrameType, TetherError, WireCode, type Frame, type TunnelSettings } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { RelayLimits } from '../config.js';
import type { Identity } from '../identity.js';
import type { Clock } from '../ports/clock.js';
import type { Metrics } from '../ports/metrics.js';
import type { Store } from '../ports/store.js';
import type { TunnelLease, TunnelRegistry } from '../ports/tunnel-registry.js';
import { refusal, type TunnelDecision } from '../policy/decision.js';
import { mayServe, type Policy } from '../policy/policy.js';
import { CreditLedger } from './credit-ledger.js';
import { Link, type LinkWatch, type PendingOpen } from './link.js';
import { LinkRoles, type LinkKind } from './link-roles.js';
import type { LinkTransport } from './link-transport.js';
import { OrderedQueue, type Settled } from './open-queue.js';
import type { PeerDialer } from './peer-dialer.js';
import { createRoute, type Route, type RouteEnd } from './route.js';
import { RouterMetrics } from './router-metrics.js';
import { ProtocolGate, protocolDetail } from './protocol-gate.js';
import { limitMessage } from '../limits/limit-message.js';
import type { LimitDecision, RateLimits } from '../limits/rate-limits.js';
import type { AdaptiveLimit } from '../limits/adaptive-limit.js';
import type { ByteShaper } from '../limits/byte-shaper.js';
import type { UsageHook } from '../analytics/usage-recorder.js';
import type { OpenTracing } from '../tracing/open-tracing.js';

/**
 * What one queued send is counted as on top of its bytes: ws and net keep a frame header, a
 * callback and a write request for each, so 10,000 queued 18-byte PONGs hold megabytes.
 */
const SEND_COST = 512;
/**
 * What a link hands its transport before forwarded frames wait in per-stream queues (Link.send):
 * a megabyte keeps a socket busy between write callbacks, and a keystroke waits for half of it.
 */
const TRANSPORT_BUDGET = 1024 * 1024;

/**
 * The least first window a new stream gets however much its link holds (a window must be
 * positive, and a stream must be able to start): with maxStreamsPerConnection streams, 64 MiB.
 */
const FIRST_WINDOW_FLOOR = 4096;

/** Adds `delta` to a count in `counts`, dropping keys that reach zero. */
function bump<K>(counts: Map<K, number>, key: K, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

export interface RouterStats {
  hosts: number;
  connectors: number;
  streams: number;
  bytesIn: number;
  bytesOut: number;
  draining: boolean;
}

/** setTimeout's longest delay (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How soon an open shed under overload is worth trying again. */
const OVERLOAD_RETRY_MS = 1000;

/** A link that talks on its own still gets a PING every this many ping intervals (its RTT). */
const RTT_REFRESH_INTERVALS = 4;

/** The ports and settings a router works with; `buildApp` wires them. */
export interface RouterDeps {
  policy: Policy;
  /** Only to note when a tunnel was last hosted; access is the policy's. */
  store: Pick<Store, 'markTunnelHosted'>;
  registry: TunnelRegistry;
  auditor: Auditor;
  metrics: Metrics;
  clock: Clock;
  limits: RelayLimits;
  log: FastifyBaseLogger;
  /** This relay node's id in the tunnel registry. */
  nodeId: string;
  /** Fail-closed audit: false while the audit log cannot be written, and opens are refused then. */
  auditWritable?: () => boolean;
  /** Stream opens per opener, tunnel and address (none: not limited). */
  rateLimits?: RateLimits;
  /** Shadow mode: an open past a rate limit is counted and logged, not refused. */
  rateLimitShadow?: boolean;
  /** How many opens may be under way at once, following the relay's health (none: no such limit). */
  adaptive?: AdaptiveLimit;
  /** Byte rates per tunnel and per user (none, or no rule: not shaped). */
  shaper?: ByteShaper;
  /** Count opens and bytes per tunnel name too, for at most this many tunnels (docs/metrics.md); off by default. */
  metricsTunnelLabels?: number;
  /** Usage analytics (docs/analytics.md): told of accepted, ended and refused streams; none: not counted. */
  usage?: UsageHook;
  /** A `tether.open` span per OPEN (docs/tracing.md); none: tracing is off and costs nothing. */
  tracing?: OpenTracing;
  /** Bytes of a stream's start looked at to tell its protocol (docs/protocols.md; default 16 KiB). */
  sniffBytes?: number;
}

interface OpenLookup {
  decision: TunnelDecision;
  /** This node's lease of the tunnel, when a host link here serves it. */
  lease?: TunnelLease;
  /** Otherwise the peer link to a node that holds it (cluster). */
  peer?: Link;
  /** Holders on other nodes that could not be reached, and why (for the refusal's words). */
  unreachable?: { nodes: string[]; why: string };
  /** A rate limit refused the open (decided after access, so strangers cannot use up a tunnel's opens). */
  limited?: LimitDecision;
  /** The tunnel's settings, from its lease (here or on the holding node): its allow-list, whether it is UDP. */
  settings?: TunnelSettings;
}

/**
 * Routes streams between openers (connectors) and acceptors (hosts). The relay never reads
 * payloads: DATA and WINDOW frames are forwarded as they arrived with only the stream id
 * rewritten, while the router tracks each direction's credit so no peer can make it buffer more
 * than a window. OPENs go through a per-link queue: their access decision and tunnel lookup are
 * asynchronous (store, registry) and never hold up other frames.
 */
export class Router {
  /** Host links of this node by the tunnel they serve (the registry's local half). */
  private readonly served = new Map<string, Link>();
  private readonly links = new Map<number, Link>();
  private readonly opens = new Map<Link, OrderedQueue<PendingOpen, OpenLookup>>();
  private readonly deps: RouterDeps;
  private readonly limits: RelayLimits;
  private readonly log: FastifyBaseLogger;
  private readonly metrics: RouterMetrics;
  private readonly credit: CreditLedger;
  private readonly protocols: ProtocolGate;
  private readonly watch: LinkWatch;
  private readonly linksPerUser = new Map<number, number>();
  private readonly linksPerAddress = new Map<string, number>();
  private readonly pinger: NodeJS.Timeout;
  private peers: PeerDialer | undefined;
  private streamCount = 0;
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  /** The OPEN being settled (for usage analytics' count of refusals). */
  private settling: PendingOpen | undefined;
  draining = false;

  constructor(deps: RouterDeps) {
    this.deps = deps;
    this.limits = deps.limits;
    this.log = deps.log;
    this.metrics = new RouterMetrics(deps.metrics, deps.metricsTunnelLabels);
    const limit = this.limits.maxBufferedBytesPerConnection;
    this.credit = new CreditLedger();
    this.protocols = new ProtocolGate(deps.metrics, deps.sniffBytes);
    this.watch = {
      sendCost: SEND_COST,
      now: () => this.deps.clock.monotonic(),
      limit,
      drainBelow: limit / 2,
      transportBudget: Math.min(TRANSPORT_BUDGET, limit / 4),
      onCongested: (link) => this.onCongested(link),
      onDrained: (link) => this.onDrained(link),
    };
    this.pinger = setInterval(() => this.pingAll(), this.limits.pingIntervalMs);
    this.pinger.unref();
  }

  /**
   * Cluster: streams to tunnels held by other nodes are carried over peer links from `dialer`.
   * Without one (a single relay), only hosts linked to this node are reachable.
   */
  usePeers(dialer: PeerDialer): void {
    this.peers = dialer;
  }

  /** The host link of this node currently serving `tunnel`, if any. */
  hostFor(tunnel: string): Link | undefined {
    return this.served.get(tunnel);
  }

  /** Open links (host and connector) on this node. */
  linkCount(): number {
    return this.links.size;
  }

  stats(): RouterStats {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    let connectors = 0;
    for (const link of this.links.values()) {
      bytesIn += link.bytesIn;
      bytesOut += link.bytesOut;
      if (link.role.opens) connectors++;
    }
    return { hosts: this.served.size, connectors, streams: this.streamCount, bytesIn, bytesOut, draining: this.draining };
  }

  /**
   * Takes over a connected transport. For a link that serves `tunnel`, the host's right to it
   * was decided before the upgrade; here it takes the tunnel's lease in the registry.
   */
  attach(transport: LinkTransport, kind: LinkKind, identity: Identity, tunnel?: string, address = 'local', settings?: TunnelSettings): Link {
    const role = LinkRoles[kind];
    const link = new Link(role, identity, transport, tunnel, address, this.deps.clock.now(), this.watch);
    link.settings = settings;
    this.links.set(link.linkId, link);
    bump(this.linksPerUser, identity.id, 1);
    bump(this.linksPerAddress, address, 1);
    this.metrics.linkAttached(role.name);
    transport.start({
      message: (data, isBinary) => this.onMessage(link, data, isBinary),
      close: (code, reason) => this.detach(link, code, reason),
      error: (err) => this.log.warn({ err, link: link.label }, 'link socket error'),
    });
    if (role.opens) {
      this.opens.set(link, new OrderedQueue((p) => this.lookupOpen(link, p), (p, outcome) => this.settleCounted(link, p, outcome)));
    }
    if (role.accepts && tunnel !== undefined) void this.register(link, tunnel);
    if (this.draining) link.queue(wire.encodeGoAway(0, WireCode.GOING_AWAY, 'relay is shutting down'));
    this.log.info({ link: link.label }, 'link attached');
    return link;
  }

  /**
   * Quotas checked before an upgrade: links per identity (the admin's are not counted against
   * it) and per source address. Throws QUOTA_EXCEEDED, which the route answers with 429.
   */
  admit(identity: Identity, address: string): void {
    if (!identity.admin && (this.linksPerUser.get(identity.id) ?? 0) >= this.limits.maxLinksPerUser) {
      throw createError(ErrorCode.QUOTA_EXCEEDED, `${identity.name} already has ${this.limits.maxLinksPerUser} connections to this relay (the most allowed): close some first`);
    }
    if ((this.linksPerAddress.get(address) ?? 0) >= this.limits.maxLinksPerAddress) {
      throw createError(ErrorCode.QUOTA_EXCEEDED, `${this.limits.maxLinksPerAddress} connections from ${address} already (the most allowed)`);
    }
  }

  /**
   * Before a host takes over `tunnel` from a link of the same identity: pings that link and
   * resolves true if it answers within `hostProbeMs` (it is alive: the newcomer is refused).
   * A silent one is a host that lost its network without the relay noticing yet: it is closed
   * (its streams are reset with PEER_GONE, so connectors resume them) and false is returned.
   */
  async incumbentAlive(tunnel: string, identityId: number): Promise<boolean> {
    const link = this.served.get(tunnel);
    if (!link || link.closed) return false;
    if (link.identity.id !== identityId) return true;
    // Anything it sends after the PING (its PONG first of all) proves it alive.
    const before = link.bytesIn;
    link.queue(wire.encodePing(Buffer.alloc(8)));
    const deadline = Date.now() + this.limits.hostProbeMs;
    while (Date.now() < deadline) {
      if (link.closed) return false;
      if (link.bytesIn > before) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (link.closed || link.bytesIn > before) return !link.closed;
    this.log.warn({ link: link.label, tunnel }, 'host link silent: replaced by a new connection of the same host');
    this.deps.auditor.record(AuditEventCode.HOST_REPLACED, link.identity, 'tunnel.host', `tunnel:${tunnel}`, { reason: `no answer within ${this.limits.hostProbeMs} ms` });
    this.metrics.hostReplaced();
    this.closeLink(link, createError(ErrorCode.PEER_GONE, `replaced: no answer within ${this.limits.hostProbeMs} ms`, CloseCode.REPLACED));
    return false;
  }

  /** Sends GOAWAY everywhere, waits for streams to finish (up to drainTimeoutMs), then closes all links. */
  async drain(): Promise<void> {
    wire.debugLog('relay', 'drain: GOAWAY to every link', { links: this.links.size, streams: this.streamCount });
    this.draining = true;
    for (const link of this.links.values()) {
      link.queue(wire.encodeGoAway(link.lastPeerId, WireCode.GOING_AWAY, 'relay is shutting down'));
    }
    const deadline = Date.now() + this.limits.drainTimeoutMs;
    while (this.streamCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (this.streamCount > 0) this.log.warn({ streams: this.streamCount }, 'drain timeout: closing remaining streams');
    for (const link of [...this.links.values()]) {
      this.closeLink(link, createError(ErrorCode.GOING_AWAY, 'relay shut down', CloseCode.GOING_AWAY));
    }
    clearInterval(this.pinger);
  }

  /**
   * Closes every connection of the identity `id` (its token was revoked or its user deleted):
   * a credential that no longer authenticates must not keep a tunnel open. Returns the count.
   */
  disconnectIdentity(id: number, why: string): number {
    let count = 0;
    for (const link of [...this.links.values()]) {
      if (link.identity.id !== id) continue;
      this.closeLink(link, createError(ErrorCode.UNAUTHORIZED, why, CloseCode.POLICY_VIOLATION));
      count++;
    }
    return count;
  }

  /**
   * Decides again whether identity `userId` may connect to `tunnel` (a grant of it was removed,
   * blocked, changed or lapsed, here or on another node) and resets the streams it opened to the
   * tunnel on this node if not, with TUNNEL_FORBIDDEN and `why` plus the policy's reason.
   * Resolves the number of streams reset.
   */
  async recheckAccess(userId: number, tunnel: string, why: string): Promise<number> {
    const routes: Route[] = [];
    for (const link of this.links.values()) {
      if (link.identity.id !== userId || !link.role.opens || link.role.relayed) continue;
      for (const end of link.streams.values()) if (end === end.route.opener && end.route.tunnel === tunnel) routes.push(end.route);
    }
    if (routes.length === 0) return 0;
    const identity = routes[0].opener.link.identity;
    const decision = await this.deps.policy.authorize(identity, 'tunnel.connect', { kind: 'tunnel', name: tunnel });
    let reset = 0;
    for (const route of routes) {
      // Gone meanwhile (closed, or reset by an earlier check).
      if (!route.opener.link.streams.has(route.opener.id)) continue;
      if (decision.allow) {
        clearTimeout(route.accessTimer);
        route.accessTimer = undefined;
        if (decision.until !== undefined) this.armAccessTimer(route, decision.until);
        continue;
      }
      // What ended it; the policy's words only when they add something (a narrower role), since
      // a removed member is told "no tunnel named …" like a stranger.
      this.resetRoute(route, WireCode.TUNNEL_FORBIDDEN, decision.rule === 'role' ? `${why}: ${decision.reason}` : why);
      reset++;
    }
    if (reset > 0) this.log.info({ user: identity.name, tunnel, reset, why }, 'streams reset: access ended');
    return reset;
  }

  private armAccessTimer(route: Route, until: number): void {
    // setTimeout's limit is about 24.8 days: a later expiry is checked again then.
    const delay = Math.min(Math.max(0, until - this.deps.clock.now()), 2 ** 31 - 1);
    const user = route.opener.link.identity;
    route.accessTimer = setTimeout(() => {
      route.accessTimer = undefined;
      this.recheckAccess(user.id, route.tunnel, 'the access lapsed').catch((err: unknown) => this.log.warn({ err, tunnel: route.tunnel }, 'could not decide a lapsed access again'));
    }, delay + 5);
    route.accessTimer.unref();
  }

  /** The in-process counts behind the admin's live views. */
  get live(): LiveTally {
    return this.metrics.live;
  }

  /** The links on this node, for the admin views (routing/router-views.ts); read, never kept. */
  linkList(): Iterable<Link> {
    return this.links.values();
  }

  /**
   * Ends one stream on this node (the relay admin terminated it): both ends are reset with
   * CANCELLED and `why`. False when the link has no such stream (it ended meanwhile).
   */
  terminateStream(linkId: number, streamId: number, why: string): boolean {
    const end = this.links.get(linkId)?.streams.get(streamId);
    if (!end) return false;
    this.resetRoute(end.route, WireCode.CANCELLED, why);
    return true;
  }

  /**
   * The relay admin disabled `tunnel`: every stream to it on this node is reset with
   * TUNNEL_DISABLED, then its host link here is closed (its reconnection is refused by the
   * policy). Resolves the number of streams reset.
   */
  disableTunnel(tunnel: string, why: string): number {
    const routes = new Set<Route>();
    for (const link of this.links.values()) {
      for (const end of link.streams.values()) if (end.route.tunnel === tunnel) routes.add(end.route);
    }
    for (const route of routes) this.resetRoute(route, WireCode.TUNNEL_DISABLED, why);
    for (const link of [...this.links.values()]) {
      if (link.role.accepts && link.tunnel === tunnel) this.closeLink(link, createError(ErrorCode.TUNNEL_DISABLED, why, CloseCode.POLICY_VIOLATION));
    }
    if (routes.size > 0) this.log.info({ tunnel, reset: routes.size, why }, 'streams reset: tunnel disabled');
    return routes.size;
  }

  /** Stops the timers (the app is closing). */
  close(): void {
    clearInterval(this.pinger);
    for (const link of [...this.links.values()]) link.transport.terminate();
  }

  // --- tunnel leases ---------------------------------------------------------------------------

  private async register(link: Link, tunnel: string): Promise<void> {
    const { registry, nodeId } = this.deps;
    try {
      const { granted } = await registry.claim({ tunnel, nodeId, linkId: link.linkId, hostId: link.identity.id, settings: link.settings });
      if (!granted) {
        this.closeLink(link, createError(ErrorCode.TUNNEL_IN_USE, `tunnel ${tunnel} is already being shared`, CloseCode.POLICY_VIOLATION));
        return;
      }
      if (link.closed || link.goingAway) {
        await registry.release(tunnel, nodeId, link.linkId);
        return;
      }
      link.registered = true;
      this.served.set(tunnel, link);
      this.metrics.tunnelsOnline(this.served.size);
      this.deps.auditor.record(AuditEventCode.TUNNEL_ONLINE, link.identity, 'tunnel.host', `tunnel:${tunnel}`, { detail: { link: link.linkId } });
    } catch (err) {
      this.log.error({ err, link: link.label }, 'tunnel registration failed');
      this.closeLink(link, createError(ErrorCode.INTERNAL, 'the relay could not register the tunnel; try again', CloseCode.INTERNAL));
      return;
    }
    // Bookkeeping only: a store hiccup here must not cost a registered host its link.
    this.deps.store.markTunnelHosted(tunnel).catch((err: unknown) => this.log.warn({ err, tunnel }, 'could not note when the tunnel was hosted'));
  }

  /** The link no longer serves its tunnel: forget it here and give the lease up. */
  private unregister(link: Link, why: string): void {
    if (!link.registered || link.tunnel === undefined) return;
    link.registered = false;
    if (this.served.get(link.tunnel) === link) this.served.delete(link.tunnel);
    this.metrics.tunnelsOnline(this.served.size);
    this.deps.auditor.record(AuditEventCode.TUNNEL_OFFLINE, link.identity, 'tunnel.host', `tunnel:${link.tunnel}`, { reason: why });
    this.deps.registry.release(link.tunnel, this.deps.nodeId, link.linkId).catch((err: unknown) => {
      this.log.warn({ err, link: link.label }, 'tunnel lease release failed (it lapses by itself)');
    });
  }

  private renewLeases(): void {
    const held = [...this.served.values()].map((l) => ({ tunnel: l.tunnel!, nodeId: this.deps.nodeId, linkId: l.linkId, hostId: l.identity.id, settings: l.settings }));
    if (held.length === 0) return;
    this.deps.registry.renew(this.deps.nodeId, held).then((lost) => {
      for (const tunnel of lost) {
        // Only the link the renewal was for: a newer link may hold the tunnel by now.
        const link = this.served.get(tunnel);
        if (link && held.some((h) => h.tunnel === tunnel && h.linkId === link.linkId)) this.closeLink(link, createError(ErrorCode.TUNNEL_IN_USE, `tunnel ${tunnel} is served elsewhere now`, CloseCode.POLICY_VIOLATION));
      }
    }, (err: unknown) => this.log.warn({ err }, 'tunnel lease renewal failed'));
  }

  // --- inbound -------------------------------------------------------------------------------

  private onMessage(link: Link, data: Buffer, isBinary: boolean): void {
    if (link.closed) return;
    link.lastSeen = this.deps.clock.now();
    link.bytesIn += data.length;
    if (!isBinary) {
      this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, 'text messages are not part of tether.v1', CloseCode.UNSUPPORTED_DATA));
      return;
    }
    link.inbox.push({ data, offset: 0 });
    // A message that arrives while earlier ones wait for the link's next turn waits behind them.
    if (link.inbox.length === 1) this.work(link);
  }

  /**
   * Handles a link's waiting messages, at most `maxFramesPerTurn` frames per turn of the event
   * loop: a link that sends a megabyte of tiny frames yields to every other link between slices,
   * and is not read from until its backlog is done.
   */
  private work(link: Link): void {
    let budget = this.limits.maxFramesPerTurn;
    try {
      // A congested link's backlog waits until it drains (onDrained picks it up again).
      while (link.inbox.length > 0 && !link.closed && link.congestedSince === undefined) {
        const entry = link.inbox[0];
        entry.offset = wire.decodeFrames(entry.data, this.limits, (frame, start, end) => {
          this.onFrame(link, frame, entry.data, start, end);
          return --budget > 0 && !link.closed;
        }, entry.offset);
        if (entry.offset < entry.data.length) break;
        link.inbox.shift();
      }
    } catch (err) {
      const error = err instanceof TetherError ? err : createError(ErrorCode.INTERNAL, String(err), CloseCode.INTERNAL);
      if (!(err instanceof TetherError)) this.log.error({ err, link: link.label }, 'router failure');
      this.closeLink(link, error);
      return;
    }
    link.flush();
    if (link.inbox.length === 0 || link.closed || link.congestedSince !== undefined) return;
    this.metrics.throttled('work');
    link.pause();
    setImmediate(() => {
      link.resume();
      if (!link.closed) this.work(link);
    });
  }

  private onFrame(link: Link, frame: Frame, message: Buffer, start: number, end: number): void {
    if (link.closed) return;
    switch (frame.type) {
      case FrameType.OPEN: return this.onOpen(link, frame);
      case FrameType.PING: return this.reply(link, wire.encodePong(frame.data));
      case FrameType.PONG:
        if (link.pingSentAt > 0) {
          link.rttMs = this.deps.clock.monotonic() - link.pingSentAt;
          this.metrics.pong(link.role.name, link.rttMs);
        }
        return;
      case FrameType.GOAWAY: return this.onPeerGoAway(link);
      case FrameType.DATAGRAM: return this.onDatagram(link, frame.streamId, frame.payload.length, message, start, end);
      default: break;
    }
    const pending = link.pending.get(frame.streamId);
    if (pending) {
      // The stream's OPEN is still being resolved: this frame is handled right after it.
      if (pending.deferred.length >= this.limits.maxDeferredFramesPerOpen) {
        return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `too many frames on stream ${frame.streamId} before its OPEN was answered`));
      }
      pending.deferred.push({ frame, message, start, end });
      return;
    }
    this.onStreamFrame(link, frame, message, start, end);
  }

  private onStreamFrame(link: Link, frame: Frame, message: Buffer, start: number, end: number): void {
    const here = link.streams.get(frame.streamId);
    if (!here) {
      if (frame.type === FrameType.DATA) this.reply(link, wire.encodeReset(frame.streamId, WireCode.UNKNOWN_STREAM, `no stream ${frame.streamId}`));
      return; // late WINDOW/RESET after a close are normal
    }
    switch (frame.type) {
      case FrameType.DATA: {
        if (!here.open) return this.resetRoute(here.route, WireCode.PROTOCOL_ERROR, 'DATA before the stream was accepted');
        if (here.fin) return this.resetRoute(here.route, WireCode.PROTOCOL_ERROR, 'DATA after FIN');
        const n = frame.payload.length;
        if (n > here.credit) return this.resetRoute(here.route, WireCode.FLOW_CONTROL, `sent ${n} bytes with ${here.credit} of credit`);
        this.credit.consume(here, n);
        if (here === here.route.opener) here.route.up += n;
        else here.route.down += n;
        this.metrics.data(here === here.route.opener, n, here.route.tunnel);
        if (here.route.sniff?.undecided && here === here.route.opener && !this.gateData(here, frame.payload, frame.fin)) return;
        this.forward(link, here, message, start, end);
        if (frame.fin) {
          here.fin = true;
          if (here.peer.fin) this.removeRoute(here.route, 'closed');
        }
        return;
      }
      case FrameType.WINDOW: {
        const peer = here.peer;
        if (peer.credit + peer.withheld + (peer.shaped ?? 0) + frame.increment > this.limits.maxBufferedBytesPerStream) {
          return this.resetRoute(here.route, WireCode.BUFFER_LIMIT, `window above the relay's per-stream limit of ${this.limits.maxBufferedBytesPerStream} bytes`);
        }
        if (this.shape(here.route, peer, frame.increment)) return;
        const granted = this.credit.grant(peer, frame.increment);
        if (granted === 0) return;
        // Passed on as it came, with the increment cut to what the link may take now.
        if (granted !== frame.increment) message.writeUInt32BE(granted, start + wire.HEADER_SIZE);
        this.forward(link, here, message, start, end, false);
        return;
      }
      case FrameType.ACK:
        // End-to-end control of a resumable stream: forwarded unread, like DATA, but it uses no credit.
        if (!here.open) return this.resetRoute(here.route, WireCode.PROTOCOL_ERROR, 'ACK before the stream was accepted');
        this.forward(link, here, message, start, end, false);
        return;
      case FrameType.RESET:
        wire.debugLog('relay', 'reset forwarded', { from: link.label, id: frame.streamId, to: here.peer.link.label, code: frame.code, message: frame.message });
        this.forward(link, here, message, start, end);
        this.metrics.streamReset(frame.code, here === here.route.opener ? 'opener' : 'host');
        here.route.trace?.end('reset', frame.code);
        this.removeRoute(here.route, `reset by the ${here === here.route.opener ? 'opener' : 'host'} (code ${frame.code})`);
        return;
      case FrameType.OPEN_OK: {
        if (here !== here.route.acceptor || here.open) return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `unexpected OPEN_OK on stream ${frame.streamId}`));
        here.open = true;
        here.peer.open = true;
        if (!here.peer.link.identity.peer) this.deps.usage?.streamOpened(here.route, here.peer.link.identity.name);
        const window = this.credit.grant(here.peer, Math.min(frame.window, this.limits.maxBufferedBytesPerStream), FIRST_WINDOW_FLOOR);
        clearTimeout(here.route.openTimer);
        here.route.openTimer = undefined;
        this.admitted(here.route, 'ok');
        here.route.trace?.end('ok');
        here.route.trace = undefined; // not held for the stream's life
        here.peer.link.queue(wire.encodeOpenOk(here.peer.id, window));
        this.metrics.openAccepted(this.deps.clock.monotonic() - (here.route.openArrivedAt ?? here.route.startedAt));
        wire.debugLog('relay', 'open ok', { host: link.label, hostId: frame.streamId, opener: here.peer.link.label, id: here.peer.id, window, openerCongested: here.peer.link.congestedSince !== undefined });
        // What the opener granted this end at OPEN and the relay held back can go now.
        this.releaseCredit(here.peer.link);
        return;
      }
      case FrameType.OPEN_ERR:
        if (here !== here.route.acceptor || here.open) return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `unexpected OPEN_ERR on stream ${frame.streamId}`));
        here.peer.link.queue(wire.encodeOpenErr(here.peer.id, frame.code, frame.message));
        if (!here.peer.link.identity.peer) this.deps.usage?.openFailed(here.route.tunnel, here.peer.link.identity.name, frame.code);
        this.metrics.streamReset(frame.code, 'host');
        here.route.trace?.end('refused', frame.code);
        wire.debugLog('relay', 'open err', { host: link.label, opener: here.peer.link.label, id: here.peer.id, code: frame.code, message: frame.message });
        this.removeRoute(here.route, `refused by the host (code ${frame.code})`);
        return;
    }
  }

  /**
   * DATA from the opener of a stream whose protocol is not known yet (docs/protocols.md): the
   * gate observes it, holds it (an allow-list: already counted against the opener's credit; at
   * most the classifier's bound per stream and the gate's budget per link), lets what it held go
   * first, or refuses the stream before a byte reaches the host. True when the frame is to be
   * forwarded now.
   */
  private gateData(here: RouteEnd, payload: Buffer, fin: boolean): boolean {
    const route = here.route;
    // Out of credit with none on its way: the host renews it only for bytes it has seen.
    const stalled = here.credit === 0 && here.withheld === 0 && !here.shaped;
    const verdict = this.protocols.data(route, payload, fin, stalled);
    switch (verdict.kind) {
      case 'pass': return true;
      case 'hold': return false;
      case 'release':
        here.peer.link.send(wire.encodeData(here.peer.id, verdict.held), here.peer);
        return true;
      case 'refuse':
        this.deps.auditor.record(AuditEventCode.PROTOCOL_REFUSED, route.opener.link.identity, 'tunnel.connect', `tunnel:${route.tunnel}`, { reason: verdict.message, detail: { address: route.opener.link.address, ...protocolDetail(verdict.result) } });
        this.resetRoute(route, WireCode.PROTOCOL_NOT_ALLOWED, verdict.message);
        return false;
    }
  }

  /**
   * Routes a datagram along its UDP flow (docs/udp.md), the flow id rewritten like a stream id.
   * Datagrams are unreliable: one that is too large, for no open flow, or towards a link that
   * holds more than maxDatagramBufferedBytes is dropped and counted, never queued or answered.
   */
  private onDatagram(link: Link, flowId: number, size: number, message: Buffer, start: number, end: number): void {
    const here = link.streams.get(flowId);
    if (!here?.route.udp || !here.open) return this.metrics.datagramDropped('unknown_flow');
    if (size > this.limits.maxDatagramSize) return this.metrics.datagramDropped('too_large');
    const target = here.peer.link;
    if (target.congestedSince !== undefined || target.buffered > this.limits.maxDatagramBufferedBytes) return this.metrics.datagramDropped('congested');
    const up = here === here.route.opener;
    if (up) here.route.up += size;
    else here.route.down += size;
    this.metrics.datagramForwarded(up, size);
    message.writeUInt32BE(here.peer.id, start + 2);
    // Queued, not sent: the datagrams of one message (a burst batched by the sender) leave as
    // one message too, and a message per datagram would cost a syscall each.
    target.queue(message.subarray(start, end));
  }

  /**
   * Answers a link's own frame (PONG, RESET, OPEN_ERR). Forwarded traffic is bounded by
   * pausing its sources, but these answers are generated here: a peer that keeps sending PINGs
   * or bad DATA and never reads the answers is closed before its queue can grow without bound.
   */
  private reply(link: Link, message: Buffer): void {
    link.queue(message);
  }

  /**
   * `link` holds more than its buffer limit: its peer does not read what the relay sends. The
   * relay stops reading from it (what it sends makes replies, and answering it must not cost
   * more) and gives it `drainDeadlineMs` to catch up before closing it with BUFFER_LIMIT.
   */
  private onCongested(link: Link): void {
    wire.debugLog('relay', 'congested', { link: link.label, buffered: link.buffered });
    link.congestedSince = this.deps.clock.monotonic();
    link.lastWriteDoneAt = link.congestedSince;
    this.metrics.throttled('congested');
    link.pause();
    this.armCongestionDeadline(link);
  }

  /**
   * A congested link that reads nothing for `drainDeadlineMs` (no write of the relay's completes)
   * is closed; one that reads, however slowly, stays and is checked again.
   */
  private armCongestionDeadline(link: Link): void {
    link.congestionTimer = setTimeout(() => {
      link.congestionTimer = undefined;
      if (link.closed || link.congestedSince === undefined) return;
      if (this.deps.clock.monotonic() - link.lastWriteDoneAt < this.limits.drainDeadlineMs) {
        this.armCongestionDeadline(link);
        return;
      }
      this.closeLink(link, createError(ErrorCode.BUFFER_LIMIT, `peer read nothing of what the relay sent for ${this.limits.drainDeadlineMs} ms`, CloseCode.BUFFER_LIMIT));
    }, this.limits.drainDeadlineMs);
    link.congestionTimer.unref();
  }

  /** `link` drained: read it again, resume what it held back, and pass on held-back credit. */
  private onDrained(link: Link): void {
    if (link.congestedSince !== undefined) wire.debugLog('relay', 'drained', { link: link.label, buffered: link.buffered });
    if (link.congestedSince !== undefined) {
      link.congestedSince = undefined;
      clearTimeout(link.congestionTimer);
      link.congestionTimer = undefined;
      link.resume();
      if (link.inbox.length > 0) setImmediate(() => this.work(link));
    }
    for (const source of link.blocked) source.resume();
    link.blocked.clear();
    this.releaseCredit(link);
  }

  /** Passes held-back credit of the streams into `link` on to their senders, as far as it fits. */
  private releaseCredit(link: Link): void {
    if (link.closed) return;
    for (const [sender, amount] of this.credit.release(link)) sender.link.queue(wire.encodeWindow(sender.id, amount));
  }

  /**
   * Forwards one frame to the other end with the stream id rewritten, without copying it.
   * `ordered`: it keeps its place among its stream's frames (DATA, RESET), waiting in the stream's
   * queue on a congested link (Link.send); WINDOW and ACK speak of the other direction's bytes
   * and go at once, ahead of any data.
   */
  private forward(source: Link, here: RouteEnd, message: Buffer, start: number, end: number, ordered = true): void {
    message.writeUInt32BE(here.peer.id, start + 2);
    const target = here.peer.link;
    target.send(start === 0 && end === message.length ? message : message.subarray(start, end), ordered ? here.peer : undefined);
    // Past twice the limit (credit granted before the target stopped reading, or floods of tiny
    // frames), the source is held back too: the last bound on what the relay holds for a link.
    if (target.buffered > 2 * this.limits.maxBufferedBytesPerConnection && !target.blocked.has(source)) {
      target.blocked.add(source);
      source.pause();
    }
  }

  // --- opening streams -------------------------------------------------------------------------

  /** Checks what can be checked at once, then queues the OPEN for its look-ups. */
  private onOpen(link: Link, frame: Extract<Frame, { type: 1 }>): void {
    const id = frame.streamId;
    const queue = this.opens.get(link);
    if (!queue) return this.refuse(link, id, WireCode.PROTOCOL_ERROR, `${link.role.name}s cannot open streams`);
    if (id % 2 !== link.role.peerIdParity || id <= link.lastPeerId) {
      return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `OPEN with stream id ${id} out of sequence`));
    }
    link.lastPeerId = id;
    wire.debugLog('relay', 'open arrived', { link: link.label, id, pending: link.pending.size, draining: this.draining });
    if (link.pending.size >= this.limits.maxPendingOpensPerConnection) {
      return this.refuse(link, id, WireCode.STREAM_LIMIT, `at most ${this.limits.maxPendingOpensPerConnection} opens may wait for an answer per connection`);
    }
    const pending: PendingOpen = { id, tunnel: frame.tunnel, window: frame.window, metadata: frame.metadata, arrivedAt: this.deps.clock.monotonic(), deferred: [] };
    if (this.deps.tracing) pending.trace = this.deps.tracing.start(frame.tunnel, link.role.name, frame.metadata);
    link.pending.set(id, pending);
    queue.push(pending);
  }

  /**
   * The asynchronous half of an OPEN: may this identity connect, and who serves the tunnel. A
   * host linked here is preferred; otherwise (cluster) a node that holds the tunnel is reached
   * over a peer link, trying each holder until one answers, those already linked first. An OPEN
   * that came over a peer link is for local hosts only: it is never carried to a third node.
   */
  private async lookupOpen(link: Link, pending: PendingOpen): Promise<OpenLookup> {
    const decision = await this.deps.policy.authorize(link.identity, 'tunnel.connect', { kind: 'tunnel', name: pending.tunnel });
    if (!decision.allow) return { decision };
    // An OPEN carried from another node was counted there.
    const rates = link.role.relayed ? undefined : this.deps.rateLimits;
    if (rates) {
      const limited = await rates.open({ identityId: link.identity.id, address: link.address, admin: link.identity.admin }, pending.tunnel);
      this.metrics.openRateDecision(limited, this.deps.rateLimitShadow === true);
      if (!limited.allowed && !this.deps.rateLimitShadow) return { decision, limited };
    }
    const leases = await this.deps.registry.lookup(pending.tunnel);
    // A visitor of a public URL: only while the host still shares the tunnel that way.
    const visitor = link.identity.visitor;
    if (visitor && leases.length > 0 && !leases.some((l) => l.settings?.http !== undefined && (l.settings.access ?? 'private') === visitor.access)) {
      return { decision: { ...decision, allow: false, rule: 'visitor', reason: `tunnel ${pending.tunnel} no longer admits visitors (access ${visitor.access})`, code: ErrorCode.TUNNEL_FORBIDDEN } };
    }
    const lease = leases.find((l) => l.nodeId === this.deps.nodeId);
    const settings = (lease ?? leases[0])?.settings;
    const peers = this.peers;
    if (lease || !peers || link.role.relayed || leases.length === 0) return { decision, lease, settings };
    const holders = [...leases].sort((a, b) => Number(peers.has(b.nodeId)) - Number(peers.has(a.nodeId)));
    let why = '';
    for (const holder of holders) {
      try {
        return { decision, peer: await peers.linkTo(holder.nodeId), settings: holder.settings };
      } catch (err) {
        why = (err as Error).message;
        wire.debugLog('relay', 'peer unreachable', { node: holder.nodeId, tunnel: pending.tunnel, why });
      }
    }
    return { decision, unreachable: { nodes: holders.map((h) => h.nodeId), why } };
  }

  /** settleOpen, with the OPEN at hand for usage analytics (a refusal is counted against its tunnel). */
  private settleCounted(link: Link, pending: PendingOpen, outcome: Settled<OpenLookup>): void {
    this.settling = pending;
    try {
      this.settleOpen(link, pending, outcome);
    } finally {
      this.settling = undefined;
    }
  }

  /** Applies a looked-up OPEN, in the order the link sent them, then the frames it held back. */
  private settleOpen(link: Link, pending: PendingOpen, outcome: Settled<OpenLookup>): void {
    if (link.closed) return;
    this.metrics.openLookup(this.deps.clock.monotonic() - pending.arrivedAt);
    if (outcome.ok) {
      this.openRoute(link, pending, outcome.value);
    } else {
      const err = outcome.error;
      if (err instanceof TetherError && err.code === ErrorCode.STORE_UNAVAILABLE) {
        // Expected while Redis is away: said once per open at warn, without a stack.
        this.log.warn({ link: link.label, tunnel: pending.tunnel, reason: err.message }, 'open refused: the store is unavailable');
        this.refuse(link, pending.id, WireCode.STORE_UNAVAILABLE, `the relay cannot reach its shared store to open a stream to tunnel ${pending.tunnel}; streams already open keep flowing; try again shortly`);
      } else {
        this.log.error({ err, link: link.label, tunnel: pending.tunnel }, 'open look-up failed');
        this.refuse(link, pending.id, WireCode.INTERNAL, `the relay could not look up tunnel ${pending.tunnel}; try again`);
      }
    }
    // Pending until settled, so that a refusal finds the OPEN's span.
    link.pending.delete(pending.id);
    for (const d of pending.deferred) {
      if (link.closed) return;
      this.onStreamFrame(link, d.frame, d.message, d.start, d.end);
    }
  }

  private openRoute(link: Link, pending: PendingOpen, { decision, lease, peer, unreachable, limited, settings }: OpenLookup): void {
    const { id, tunnel } = pending;
    if (this.draining || link.goingAway) return this.refuse(link, id, WireCode.GOING_AWAY, 'relay is shutting down');
    if (limited) {
      const message = wire.withRetryAfter(limitMessage(limited.scope, { address: link.address, name: link.identity.name, tunnel }), limited.retryAfterMs);
      this.deps.auditor.record(AuditEventCode.LIMIT_REFUSED, link.identity, 'tunnel.connect', `tunnel:${tunnel}`, { reason: message, detail: { address: link.address, rule: limited.scope ?? '' } });
      return this.refuse(link, id, WireCode.RATE_LIMITED, message);
    }
    if (link.streams.size >= this.limits.maxStreamsPerConnection) {
      return this.refuse(link, id, WireCode.STREAM_LIMIT, `at most ${this.limits.maxStreamsPerConnection} streams per connection`);
    }
    if (!decision.allow) return this.refuse(link, id, refusal(decision).wireCode, decision.reason);
    if (this.deps.auditWritable && !this.deps.auditWritable()) {
      return this.refuse(link, id, WireCode.STORE_UNAVAILABLE, "the relay's audit log cannot be written and the relay is set to fail closed; try again shortly");
    }
    // A host serves only the tunnel's current owner: when its user was deleted and the name
    // claimed again, the old host (still connected) must not receive the new owner's streams.
    // Over a peer link, the node holding the host checks that itself.
    const local = lease?.nodeId === this.deps.nodeId ? this.links.get(lease.linkId) : undefined;
    const host = peer ?? (local && mayServe(local.identity.id, decision.tunnel) ? local : undefined);
    if (!host || host.closed || host.goingAway) {
      const why = unreachable
        ? `tunnel ${tunnel} is shared through relay node ${unreachable.nodes.join(', ')}, which this node cannot reach right now (${unreachable.why}); try again`
        : `tunnel ${tunnel} is not being shared right now`;
      return this.refuse(link, id, WireCode.TUNNEL_OFFLINE, why);
    }
    const carrier = host === peer ? `the link to relay node ${peer.identity.name.slice('node:'.length)}` : `the host of tunnel ${tunnel}`;
    if (host.streams.size >= this.limits.maxStreamsPerConnection) {
      return this.refuse(link, id, WireCode.STREAM_LIMIT, `${carrier} carries ${this.limits.maxStreamsPerConnection} streams already (the most)`);
    }
    // A UDP tunnel's streams are its flows, counted where its host is linked (a host link serves one tunnel).
    const udp = (host === peer ? settings : host.settings)?.udp === true;
    if (udp && host !== peer && host.streams.size >= this.limits.maxFlowsPerTunnel) {
      return this.refuse(link, id, WireCode.FLOW_LIMIT, `UDP tunnel ${tunnel} already carries the most flows this relay allows (${this.limits.maxFlowsPerTunnel}): each client address is a flow and idle ones end by themselves; try again shortly, or ask the relay's operator to raise --limit maxFlowsPerTunnel`);
    }
    // A host that does not read what it is sent gets no more OPENs (each one costs it memory here).
    if (host.congestedSince !== undefined) {
      return this.refuse(link, id, WireCode.BUFFER_LIMIT, `${carrier} is not reading; try again later`);
    }
    // Under overload new opens are shed (streams already open keep flowing); an OPEN carried
    // from another node was admitted there.
    const adaptive = link.role.relayed ? undefined : this.deps.adaptive;
    if (adaptive && !adaptive.acquire()) {
      this.metrics.openShed();
      return this.refuse(link, id, WireCode.RATE_LIMITED, wire.withRetryAfter('the relay is overloaded and takes no new streams for a moment; streams already open are not affected', OVERLOAD_RETRY_MS));
    }
    const hostId = host.nextId;
    host.nextId += 2;
    const route = createRoute(tunnel, link, id, host, hostId, this.deps.clock.monotonic());
    route.openArrivedAt = pending.arrivedAt;
    route.trace = pending.trace;
    // Classified where the connector is: a stream carried in from another node was classified there.
    if (!link.role.relayed) this.protocols.watch(route, settings?.allow);
    if (udp) route.udp = true;
    if (adaptive) route.admitted = true;
    const window = this.credit.grant(route.acceptor, Math.min(pending.window, this.limits.maxBufferedBytesPerStream), FIRST_WINDOW_FLOOR);
    route.openTimer = setTimeout(() => {
      route.openTimer = undefined;
      link.queue(wire.encodeOpenErr(id, WireCode.TIMEOUT, `host did not answer within ${this.limits.openTimeoutMs} ms`));
      host.queue(wire.encodeReset(hostId, WireCode.TIMEOUT, 'open timed out'));
      this.metrics.streamReset(WireCode.TIMEOUT, 'relay');
      route.trace?.end('refused', WireCode.TIMEOUT);
      this.removeRoute(route, 'open timed out');
    }, this.limits.openTimeoutMs);
    link.streams.set(id, route.opener);
    host.streams.set(hostId, route.acceptor);
    this.streamCount++;
    this.metrics.streamOpened(tunnel);
    this.metrics.streams(this.streamCount);
    this.metrics.routedOpen(pending.metadata, host === peer ? 'out' : link.role.relayed ? 'in' : undefined);
    // A member's grant that lapses: the access is decided again when it does.
    if (decision.until !== undefined) this.armAccessTimer(route, decision.until);
    // Traced, the next hop continues the trace from this node's span.
    const metadata = pending.trace ? pending.trace.carry(pending.metadata, host === peer ? peer.identity.name.slice('node:'.length) : undefined) : pending.metadata;
    host.queue(wire.encodeOpen(hostId, window, tunnel, metadata));
    wire.debugLog('relay', 'open routed', { link: link.label, id, host: host.label, hostId, window, hostBuffered: host.buffered, hostCongested: host.congestedSince !== undefined, waitedMs: this.deps.clock.monotonic() - pending.arrivedAt });
  }

  /**
   * Byte rates (docs/rate-limits.md): credit granted to `end` is held while its tunnel or its
   * user is past their byte rate, and passed on (one WINDOW) when the wait is over, so the sender
   * slows down and nothing is dropped. Shaped on the node of the connector only (an OPEN carried
   * from another node was shaped there). True when the credit is held.
   */
  private shape(route: Route, end: RouteEnd, increment: number): boolean {
    const shaper = this.deps.shaper;
    const opener = route.opener.link.identity;
    if (!shaper?.enabled || opener.peer) return false;
    const delay = shaper.delayFor(route.tunnel, opener.id, increment);
    if (delay <= 0 && end.shapedTimer === undefined) return false;
    end.shaped = (end.shaped ?? 0) + increment;
    // One timer per end, at the latest wait: credit comes back no faster than the rate allows.
    if (end.shapedTimer !== undefined && delay <= 0) return true;
    clearTimeout(end.shapedTimer);
    end.shapedTimer = setTimeout(() => {
      end.shapedTimer = undefined;
      const held = end.shaped ?? 0;
      end.shaped = 0;
      if (!end.link.streams.has(end.id) || end.link.closed) return;
      const granted = this.credit.grant(end, held);
      if (granted > 0) end.link.queue(wire.encodeWindow(end.id, granted));
    }, Math.min(Math.max(delay, 1), MAX_TIMER_MS));
    return true;
  }

  /** An admitted OPEN is answered (or gone): its place in the adaptive limit is given back, with its latency. */
  private admitted(route: Route, outcome: 'ok' | 'ignore'): void {
    if (!route.admitted) return;
    route.admitted = false;
    this.deps.adaptive?.release(this.deps.clock.monotonic() - (route.openArrivedAt ?? route.startedAt), outcome);
  }

  private refuse(link: Link, id: number, code: number, message: string): void {
    if (this.settling && !link.identity.peer) this.deps.usage?.openFailed(this.settling.tunnel, link.identity.name, code);
    wire.debugLog('relay', 'open refused', { link: link.label, id, code, message });
    this.metrics.openRefused(code);
    link.pending.get(id)?.trace?.end('refused', code);
    this.reply(link, wire.encodeOpenErr(id, code, message));
  }

  private onPeerGoAway(link: Link): void {
    wire.debugLog('relay', 'peer GOAWAY', { link: link.label });
    link.goingAway = true;
    this.unregister(link, 'host going away');
  }

  // --- routes and links ----------------------------------------------------------------------

  private resetRoute(route: Route, code: number, message: string): void {
    const { opener, acceptor } = route;
    // What either end still had waiting would only meet the RESET's stream gone.
    opener.link.dropQueued(opener);
    acceptor.link.dropQueued(acceptor);
    opener.link.queue(opener.open ? wire.encodeReset(opener.id, code, message) : wire.encodeOpenErr(opener.id, code, message));
    acceptor.link.queue(wire.encodeReset(acceptor.id, code, message));
    this.metrics.streamReset(code, 'relay');
    route.trace?.end(route.opener.open ? 'reset' : 'refused', code);
    this.removeRoute(route, `reset by the relay (code ${code}): ${message}`);
  }

  /** Forgets a stream; one that was open is audited (`stream.closed`) with its bytes, duration and how it ended. */
  private removeRoute(route: Route, how: string): void {
    if (route.openTimer) clearTimeout(route.openTimer);
    route.openTimer = undefined;
    // Ended before its OPEN_OK (refused by the host, timed out, reset, a link lost): says
    // nothing about this relay's health.
    this.admitted(route, 'ignore');
    clearTimeout(route.opener.shapedTimer);
    clearTimeout(route.acceptor.shapedTimer);
    route.trace?.end('gone');
    clearTimeout(route.accessTimer);
    route.accessTimer = undefined;
    const removedOpener = route.opener.link.streams.delete(route.opener.id);
    const removedAcceptor = route.acceptor.link.streams.delete(route.acceptor.id);
    if (removedOpener || removedAcceptor) {
      this.streamCount--;
      this.metrics.streams(this.streamCount);
      this.credit.forget(route.opener);
      this.credit.forget(route.acceptor);
      // Audited where the connector is: the node holding the host sees a peer node as the opener.
      const opener = route.opener.link.identity;
      if (route.opener.open && !opener.peer) {
        const durationMs = Math.round(this.deps.clock.monotonic() - route.startedAt);
        const protocol = this.protocols.closed(route);
        this.deps.auditor.record(AuditEventCode.STREAM_CLOSED, opener, 'tunnel.connect', `tunnel:${route.tunnel}`, { reason: how, detail: { up: route.up, down: route.down, durationMs, ...protocol } });
        this.deps.usage?.streamClosed(route, durationMs, protocol?.protocol);
      }
    }
  }

  /** Ends a link with a coded close; its streams are reset on the other side. */
  closeLink(link: Link, err: TetherError): void {
    if (link.closed) return;
    this.log.info({ link: link.label, code: err.code, reason: err.message }, 'closing link');
    link.flush();
    // Close reasons are limited to 123 bytes: the stable code is what clients act on.
    link.transport.close(err.closeCode, err.code);
    this.detach(link, err.closeCode, err.code);
    // A peer that ignores the close handshake must not hold the socket open.
    setTimeout(() => link.transport.terminate(), 2000).unref();
  }

  private detach(link: Link, code: number, reason: string): void {
    if (link.closed) return;
    link.closed = true;
    this.links.delete(link.linkId);
    bump(this.linksPerUser, link.identity.id, -1);
    bump(this.linksPerAddress, link.address, -1);
    clearTimeout(link.congestionTimer);
    link.inbox.length = 0;
    link.discard();
    this.opens.get(link)?.close();
    this.opens.delete(link);
    for (const pending of link.pending.values()) pending.trace?.end('gone');
    link.pending.clear();
    this.metrics.linkDetached(link.role.name);
    this.closedBytesIn += link.bytesIn;
    this.closedBytesOut += link.bytesOut;
    this.unregister(link, 'host disconnected');
    for (const end of [...link.streams.values()]) {
      const peer = end.peer;
      if (peer.link.streams.has(peer.id)) {
        // An opener still waiting for OPEN_OK gets an open error; everyone else a reset.
        const notice = peer === end.route.opener && !peer.open
          ? wire.encodeOpenErr(peer.id, WireCode.TUNNEL_OFFLINE, link.role.goneReason)
          : wire.encodeReset(peer.id, WireCode.PEER_GONE, link.role.goneReason);
        peer.link.queue(notice);
        this.metrics.streamReset(WireCode.PEER_GONE, 'link-gone');
      }
      this.removeRoute(end.route, `${link === end.route.opener.link ? 'the opener' : 'the host'} left (${reason})`);
    }
    for (const source of link.blocked) source.resume();
    link.blocked.clear();
    this.log.info({ link: link.label, code, reason }, 'link detached');
  }

  private pingAll(): void {
    const now = this.deps.clock.now();
    const monotonic = this.deps.clock.monotonic();
    const interval = this.limits.pingIntervalMs;
    const ping = Buffer.alloc(8);
    for (const link of [...this.links.values()]) {
      // A link the relay is not reading (held back, or working through a backlog) may well be
      // talking: its silence is the relay's doing, so it does not count. Congestion has its own
      // deadline, and a backlog is worked through within turns.
      if (link.pausedFor > 0) {
        link.lastSeen = now;
        continue;
      }
      if (now - link.lastSeen > this.limits.idleTimeoutMs) {
        this.closeLink(link, createError(ErrorCode.TIMEOUT, 'no traffic within the idle timeout', CloseCode.IDLE_TIMEOUT));
        continue;
      }
      // A link heard from within the interval is alive without a PING (a share pings the relay
      // every 1.5 s when idle; a busy link talks anyway). It still gets one every
      // RTT_REFRESH_INTERVALS, so its RTT (tether_link_rtt_seconds) stays current.
      if (now - link.lastSeen < interval && link.pingSentAt > 0 && monotonic - link.pingSentAt < RTT_REFRESH_INTERVALS * interval) continue;
      link.pingSentAt = monotonic;
      link.queue(wire.encodePing(ping));
    }
    this.renewLeases();
  }
}
