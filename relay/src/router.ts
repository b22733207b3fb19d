import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import {
  CloseCode,
  createError,
  decodeFrames,
  encodeGoAway,
  encodeOpen,
  encodeOpenErr,
  encodeOpenOk,
  encodePing,
  encodePong,
  encodeReset,
  ErrorCode,
  FrameType,
  TetherError,
  WireCode,
  type Frame,
} from '@tether/shared';
import type { RelayLimits } from './config.js';
import type { Identity } from './identity.js';
import { createRoute, Link, type LinkKind, type Route, type RouteEnd } from './link.js';
import { authorize } from './policy.js';
import type { Store } from './store.js';

export interface RouterStats {
  hosts: number;
  connectors: number;
  streams: number;
  bytesIn: number;
  bytesOut: number;
  draining: boolean;
}

/**
 * Routes streams between connectors and hosts. The relay never reads payloads: DATA and
 * WINDOW frames are forwarded as they arrived with only the stream id rewritten, while the
 * router tracks each direction's credit so no peer can make it buffer more than a window.
 */
export class Router {
  private readonly hosts = new Map<string, Link>();
  private readonly links = new Set<Link>();
  private readonly store: Store;
  private readonly limits: RelayLimits;
  private readonly log: FastifyBaseLogger;
  private readonly pinger: NodeJS.Timeout;
  private streamCount = 0;
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  draining = false;

  constructor(store: Store, limits: RelayLimits, log: FastifyBaseLogger) {
    this.store = store;
    this.limits = limits;
    this.log = log;
    this.pinger = setInterval(() => this.pingAll(), limits.pingIntervalMs);
    this.pinger.unref();
  }

  /** The host link currently serving `tunnel`, if any. */
  hostFor(tunnel: string): Link | undefined {
    return this.hosts.get(tunnel);
  }

  stats(): RouterStats {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    let connectors = 0;
    for (const link of this.links) {
      bytesIn += link.bytesIn;
      bytesOut += link.bytesOut;
      if (link.kind === 'connector') connectors++;
    }
    return { hosts: this.hosts.size, connectors, streams: this.streamCount, bytesIn, bytesOut, draining: this.draining };
  }

  /** Takes over an upgraded WebSocket. For hosts, `tunnel` was authorized before the upgrade. */
  attach(ws: WebSocket, kind: LinkKind, identity: Identity, tunnel?: string): Link {
    const link = new Link(kind, identity, ws, tunnel, this.limits.maxBufferedBytesPerConnection / 2, (l) => this.onLinkDrained(l));
    this.links.add(link);
    ws.on('error', (err) => this.log.warn({ err, link: link.label }, 'link socket error'));
    ws.on('close', (code, reason) => this.detach(link, code, reason.toString()));
    ws.on('message', (data, isBinary) => this.onMessage(link, data as Buffer, isBinary));
    if (kind === 'host' && tunnel !== undefined) {
      if (this.hosts.has(tunnel)) {
        this.closeLink(link, createError(ErrorCode.TUNNEL_IN_USE, `tunnel ${tunnel} is already being shared`, CloseCode.POLICY_VIOLATION));
        return link;
      }
      this.hosts.set(tunnel, link);
      this.store.markTunnelHosted(tunnel);
    }
    if (this.draining) link.send(encodeGoAway(0, WireCode.GOING_AWAY, 'relay is shutting down'));
    this.log.info({ link: link.label }, 'link attached');
    return link;
  }

  /**
   * Before a host takes over `tunnel` from a link of the same identity: pings that link and
   * resolves true if it answers within `hostProbeMs` (it is alive: the newcomer is refused).
   * A silent one is a host that lost its network without the relay noticing yet: it is closed
   * (its streams are reset with PEER_GONE, so connectors resume them) and false is returned.
   */
  async incumbentAlive(tunnel: string, identityId: number): Promise<boolean> {
    const link = this.hosts.get(tunnel);
    if (!link || link.closed) return false;
    if (link.identity.id !== identityId) return true;
    // Anything it sends after the PING (its PONG first of all) proves it alive.
    const before = link.bytesIn;
    link.send(encodePing(Buffer.alloc(8)));
    const deadline = Date.now() + this.limits.hostProbeMs;
    while (Date.now() < deadline) {
      if (link.closed) return false;
      if (link.bytesIn > before) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (link.closed || link.bytesIn > before) return !link.closed;
    this.log.warn({ link: link.label, tunnel }, 'host link silent: replaced by a new connection of the same host');
    this.closeLink(link, createError(ErrorCode.PEER_GONE, `replaced: no answer within ${this.limits.hostProbeMs} ms`, CloseCode.REPLACED));
    return false;
  }

  /** Sends GOAWAY everywhere, waits for streams to finish (up to drainTimeoutMs), then closes all links. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const link of this.links) {
      link.send(encodeGoAway(link.lastPeerId, WireCode.GOING_AWAY, 'relay is shutting down'));
    }
    const deadline = Date.now() + this.limits.drainTimeoutMs;
    while (this.streamCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (this.streamCount > 0) this.log.warn({ streams: this.streamCount }, 'drain timeout: closing remaining streams');
    for (const link of [...this.links]) {
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
    for (const link of [...this.links]) {
      if (link.identity.id !== id) continue;
      this.closeLink(link, createError(ErrorCode.UNAUTHORIZED, why, CloseCode.POLICY_VIOLATION));
      count++;
    }
    return count;
  }

  /** Stops the timers (the app is closing). */
  close(): void {
    clearInterval(this.pinger);
    for (const link of [...this.links]) link.ws.terminate();
  }

  // --- inbound -------------------------------------------------------------------------------

  private onMessage(link: Link, data: Buffer, isBinary: boolean): void {
    if (link.closed) return;
    link.lastSeen = Date.now();
    link.bytesIn += data.length;
    if (!isBinary) {
      this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, 'text messages are not part of tether.v1', CloseCode.UNSUPPORTED_DATA));
      return;
    }
    try {
      decodeFrames(data, this.limits, (frame, start, end) => this.onFrame(link, frame, data, start, end));
    } catch (err) {
      const error = err instanceof TetherError ? err : createError(ErrorCode.INTERNAL, String(err), CloseCode.INTERNAL);
      if (!(err instanceof TetherError)) this.log.error({ err, link: link.label }, 'router failure');
      this.closeLink(link, error);
    }
  }

  private onFrame(link: Link, frame: Frame, message: Buffer, start: number, end: number): void {
    if (link.closed) return;
    switch (frame.type) {
      case FrameType.OPEN: return this.onOpen(link, frame);
      case FrameType.PING: return this.reply(link, encodePong(frame.data));
      case FrameType.PONG:
        if (link.pingSentAt > 0) link.rttMs = performance.now() - link.pingSentAt;
        return;
      case FrameType.GOAWAY: return this.onPeerGoAway(link);
      case FrameType.DATAGRAM: return; // reserved for UDP; not routed in tether.v1
      default: break;
    }
    const here = link.streams.get(frame.streamId);
    if (!here) {
      if (frame.type === FrameType.DATA) this.reply(link, encodeReset(frame.streamId, WireCode.UNKNOWN_STREAM, `no stream ${frame.streamId}`));
      return; // late WINDOW/RESET after a close are normal
    }
    switch (frame.type) {
      case FrameType.DATA: {
        if (!here.open) return this.resetRoute(here.route, WireCode.PROTOCOL_ERROR, 'DATA before the stream was accepted');
        if (here.fin) return this.resetRoute(here.route, WireCode.PROTOCOL_ERROR, 'DATA after FIN');
        const n = frame.payload.length;
        if (n > here.credit) return this.resetRoute(here.route, WireCode.FLOW_CONTROL, `sent ${n} bytes with ${here.credit} of credit`);
        here.credit -= n;
        this.forward(link, here, message, start, end);
        if (frame.fin) {
          here.fin = true;
          if (here.peer.fin) this.removeRoute(here.route);
        }
        return;
      }
      case FrameType.WINDOW: {
        const peer = here.peer;
        if (peer.credit + frame.increment > this.limits.maxBufferedBytesPerStream) {
          return this.resetRoute(here.route, WireCode.BUFFER_LIMIT, `window above the relay's per-stream limit of ${this.limits.maxBufferedBytesPerStream} bytes`);
        }
        peer.credit += frame.increment;
        this.forward(link, here, message, start, end);
        return;
      }
      case FrameType.ACK:
        // End-to-end control of a resumable stream: forwarded unread, like DATA, but it uses no credit.
        if (!here.open) return this.resetRoute(here.route, WireCode.PROTOCOL_ERROR, 'ACK before the stream was accepted');
        this.forward(link, here, message, start, end);
        return;
      case FrameType.RESET:
        this.forward(link, here, message, start, end);
        this.removeRoute(here.route);
        return;
      case FrameType.OPEN_OK: {
        if (link.kind !== 'host' || here.open) return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `unexpected OPEN_OK on stream ${frame.streamId}`));
        const window = Math.min(frame.window, this.limits.maxBufferedBytesPerStream);
        here.open = true;
        here.peer.open = true;
        here.peer.credit = window;
        clearTimeout(here.route.openTimer);
        here.route.openTimer = undefined;
        here.peer.link.send(encodeOpenOk(here.peer.id, window));
        return;
      }
      case FrameType.OPEN_ERR:
        if (link.kind !== 'host' || here.open) return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `unexpected OPEN_ERR on stream ${frame.streamId}`));
        here.peer.link.send(encodeOpenErr(here.peer.id, frame.code, frame.message));
        this.removeRoute(here.route);
        return;
    }
  }

  /**
   * Answers a link's own frame (PONG, RESET, OPEN_ERR). Forwarded traffic is bounded by
   * pausing its sources, but these answers are generated here: a peer that keeps sending PINGs
   * or bad DATA and never reads the answers is closed before its queue can grow without bound.
   */
  private reply(link: Link, message: Buffer): void {
    if (link.buffered > this.limits.maxBufferedBytesPerConnection) {
      this.closeLink(link, createError(ErrorCode.BUFFER_LIMIT, 'peer does not read what the relay sends', CloseCode.BUFFER_LIMIT));
      return;
    }
    link.send(message);
  }

  /** Forwards one frame to the other end with the stream id rewritten, without copying it. */
  private forward(source: Link, here: RouteEnd, message: Buffer, start: number, end: number): void {
    message.writeUInt32BE(here.peer.id, start + 2);
    const target = here.peer.link;
    target.send(start === 0 && end === message.length ? message : message.subarray(start, end));
    if (target.buffered > this.limits.maxBufferedBytesPerConnection && !target.blocked.has(source)) {
      target.blocked.add(source);
      source.pause();
    }
  }

  private onOpen(link: Link, frame: Extract<Frame, { type: 1 }>): void {
    const id = frame.streamId;
    const refuse = (code: number, message: string): void => this.reply(link, encodeOpenErr(id, code, message));
    if (link.kind !== 'connector') return refuse(WireCode.PROTOCOL_ERROR, 'hosts cannot open streams');
    if (id % 2 !== 1 || id <= link.lastPeerId) {
      return this.closeLink(link, createError(ErrorCode.PROTOCOL_ERROR, `OPEN with stream id ${id} out of sequence`));
    }
    link.lastPeerId = id;
    if (this.draining || link.goingAway) return refuse(WireCode.GOING_AWAY, 'relay is shutting down');
    if (link.streams.size >= this.limits.maxStreamsPerConnection) {
      return refuse(WireCode.STREAM_LIMIT, `at most ${this.limits.maxStreamsPerConnection} streams per connection`);
    }
    const record = this.store.getTunnel(frame.tunnel);
    const denied = authorize(link.identity, 'connect', record, frame.tunnel);
    if (denied) return refuse(denied.wireCode, denied.message);
    const host = this.hosts.get(frame.tunnel);
    // A host serves only the tunnel's current owner: when its user was deleted and the name
    // claimed again, the old host (still connected) must not receive the new owner's streams.
    if (!host || host.goingAway || host.identity.id !== record?.ownerId) return refuse(WireCode.TUNNEL_OFFLINE, `tunnel ${frame.tunnel} is not being shared right now`);
    if (host.streams.size >= this.limits.maxStreamsPerConnection) {
      return refuse(WireCode.STREAM_LIMIT, `tunnel ${frame.tunnel} has reached its stream limit`);
    }
    const hostId = host.nextId;
    host.nextId += 2;
    const window = Math.min(frame.window, this.limits.maxBufferedBytesPerStream);
    const route = createRoute(frame.tunnel, link, id, host, hostId, window);
    const connectorEnd = route.connector;
    const hostEnd = route.host;
    route.openTimer = setTimeout(() => {
      route.openTimer = undefined;
      link.send(encodeOpenErr(id, WireCode.TIMEOUT, `host did not answer within ${this.limits.openTimeoutMs} ms`));
      host.send(encodeReset(hostId, WireCode.TIMEOUT, 'open timed out'));
      this.removeRoute(route);
    }, this.limits.openTimeoutMs);
    link.streams.set(id, connectorEnd);
    host.streams.set(hostId, hostEnd);
    this.streamCount++;
    host.send(encodeOpen(hostId, window, frame.tunnel, frame.metadata));
  }

  private onPeerGoAway(link: Link): void {
    link.goingAway = true;
    if (link.kind === 'host' && link.tunnel && this.hosts.get(link.tunnel) === link) this.hosts.delete(link.tunnel);
  }

  // --- routes and links ----------------------------------------------------------------------

  private resetRoute(route: Route, code: number, message: string): void {
    route.connector.link.send(route.connector.open ? encodeReset(route.connector.id, code, message) : encodeOpenErr(route.connector.id, code, message));
    route.host.link.send(encodeReset(route.host.id, code, message));
    this.removeRoute(route);
  }

  private removeRoute(route: Route): void {
    if (route.openTimer) clearTimeout(route.openTimer);
    route.openTimer = undefined;
    const removedConnector = route.connector.link.streams.delete(route.connector.id);
    const removedHost = route.host.link.streams.delete(route.host.id);
    if (removedConnector || removedHost) this.streamCount--;
  }

  private onLinkDrained(link: Link): void {
    for (const source of link.blocked) source.resume();
    link.blocked.clear();
  }

  /** Ends a link with a coded close; its streams are reset on the other side. */
  closeLink(link: Link, err: TetherError): void {
    if (link.closed) return;
    this.log.info({ link: link.label, code: err.code, reason: err.message }, 'closing link');
    // Close reasons are limited to 123 bytes: the stable code is what clients act on.
    link.ws.close(err.closeCode, err.code);
    this.detach(link, err.closeCode, err.code);
    // A peer that ignores the close handshake must not hold the socket open.
    setTimeout(() => link.ws.terminate(), 2000).unref();
  }

  private detach(link: Link, code: number, reason: string): void {
    if (link.closed) return;
    link.closed = true;
    this.links.delete(link);
    this.closedBytesIn += link.bytesIn;
    this.closedBytesOut += link.bytesOut;
    if (link.kind === 'host' && link.tunnel && this.hosts.get(link.tunnel) === link) this.hosts.delete(link.tunnel);
    const gone = link.kind === 'host' ? 'host disconnected' : 'connector disconnected';
    for (const end of [...link.streams.values()]) {
      const peer = end.peer;
      if (peer.link.streams.has(peer.id)) {
        // A connector still waiting for OPEN_OK gets an open error; everyone else a reset.
        const notice = peer.link.kind === 'connector' && !peer.open
          ? encodeOpenErr(peer.id, WireCode.TUNNEL_OFFLINE, gone)
          : encodeReset(peer.id, WireCode.PEER_GONE, gone);
        peer.link.send(notice);
      }
      this.removeRoute(end.route);
    }
    for (const source of link.blocked) source.resume();
    link.blocked.clear();
    this.log.info({ link: link.label, code, reason }, 'link detached');
  }

  private pingAll(): void {
    const now = Date.now();
    const ping = Buffer.alloc(8);
    for (const link of [...this.links]) {
      if (now - link.lastSeen > this.limits.idleTimeoutMs) {
        this.closeLink(link, createError(ErrorCode.TIMEOUT, 'no traffic within the idle timeout', CloseCode.IDLE_TIMEOUT));
        continue;
      }
      link.pingSentAt = performance.now();
      link.send(encodePing(ping));
    }
  }
}
