import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import { createError, ErrorCode, SUBPROTOCOL } from '@tether/shared';
import { peerIdentity } from '../identity.js';
import type { Counter, Metrics } from '../ports/metrics.js';
import type { Link } from '../routing/link.js';
import type { PeerDialer } from '../routing/peer-dialer.js';
import type { Router } from '../routing/router.js';
import { WsTransport } from '../routing/ws-transport.js';
import { peerAuthHeaders } from './peer-auth.js';

/** The path other nodes open peer links on. */
export const PEER_PATH = '/v1/peer';

export interface PeerLinksOptions {
  selfId: string;
  secret: string;
  router: Pick<Router, 'attach'>;
  /** The advertise URL of a live node, or undefined when it is not in the registry. */
  resolve: (nodeId: string) => Promise<string | undefined>;
  maxMessageSize: number;
  log: FastifyBaseLogger;
  /** Give up on a node that does not complete the WebSocket handshake within this (ms). */
  dialTimeoutMs?: number;
  /** After a failed dial, opens through that node fail at once for this long (ms). */
  retryAfterMs?: number;
  /** Counts dials (`tether_peer_dials_total`); none when absent. */
  metrics?: Metrics;
}

/**
 * This node's outbound peer links: at most one per other node, opened when a connector here
 * first opens a stream to a tunnel held there, and shared by every later stream. A link is an
 * ordinary router link (role peerOut), so the credit flow control of each stream holds on every
 * hop and nothing is buffered beyond a window. A node that could not be reached is not dialled
 * again for `retryAfterMs`, so a burst of opens to a dead node's stale leases costs one attempt.
 */
export class PeerLinks implements PeerDialer {
  private readonly links = new Map<string, Link>();
  private readonly dialing = new Map<string, Promise<Link>>();
  private readonly failed = new Map<string, { until: number; why: string }>();
  private readonly options: Required<Omit<PeerLinksOptions, 'metrics'>>;
  private readonly dials: Counter | undefined;
  private closed = false;

  constructor(options: PeerLinksOptions) {
    this.options = { dialTimeoutMs: 3000, retryAfterMs: 2000, ...options };
    this.dials = options.metrics?.counter({ name: 'tether_peer_dials_total', help: 'Peer links this node tried to open to other nodes, by outcome', labelNames: ['outcome'] });
  }

  has(nodeId: string): boolean {
    const link = this.links.get(nodeId);
    return link !== undefined && !link.closed && !link.goingAway;
  }

  /** How many peer links are open (for the node registry's load figures and tests). */
  count(): number {
    let n = 0;
    for (const id of this.links.keys()) if (this.has(id)) n++;
    return n;
  }

  async linkTo(nodeId: string): Promise<Link> {
    const link = this.links.get(nodeId);
    if (link && !link.closed && !link.goingAway) return link;
    if (link) this.links.delete(nodeId);
    if (nodeId === this.options.selfId) throw createError(ErrorCode.INTERNAL, 'a node does not open a peer link to itself');
    // Checked before the failure cache, which would answer a later call RELAY_UNREACHABLE.
    if (this.closed) throw createError(ErrorCode.GOING_AWAY, 'this relay node is shutting down');
    const failed = this.failed.get(nodeId);
    if (failed && failed.until > Date.now()) throw createError(ErrorCode.RELAY_UNREACHABLE, failed.why);
    let dialing = this.dialing.get(nodeId);
    if (!dialing) {
      dialing = this.dial(nodeId).finally(() => this.dialing.delete(nodeId));
      this.dialing.set(nodeId, dialing);
    }
    return dialing;
  }

  /** No new links from here on (the node is shutting down; the router closes the open ones). */
  close(): void {
    this.closed = true;
  }

  private async dial(nodeId: string): Promise<Link> {
    const { log, retryAfterMs } = this.options;
    try {
      if (this.closed) throw createError(ErrorCode.GOING_AWAY, 'this relay node is shutting down');
      const url = await this.options.resolve(nodeId);
      if (!url) throw createError(ErrorCode.RELAY_UNREACHABLE, `relay node ${nodeId} is not among the live nodes of the cluster`);
      const { ws, socket } = await this.open(nodeId, url);
      if (this.closed) {
        // Shut down while the handshake ran: the router's drain is over, so nothing would close it.
        ws.terminate();
        throw createError(ErrorCode.GOING_AWAY, 'this relay node is shutting down');
      }
      const link = this.options.router.attach(new WsTransport(ws, socket), 'peerOut', peerIdentity(nodeId), undefined, url);
      this.links.set(nodeId, link);
      this.failed.delete(nodeId);
      ws.once('close', () => {
        if (this.links.get(nodeId) === link) this.links.delete(nodeId);
      });
      log.info({ node: nodeId, url }, 'peer link opened');
      this.dials?.inc({ outcome: 'opened' });
      return link;
    } catch (err) {
      const why = (err as Error).message;
      this.failed.set(nodeId, { until: Date.now() + retryAfterMs, why });
      log.warn({ node: nodeId, why }, 'cannot open a peer link');
      this.dials?.inc({ outcome: 'failed' });
      throw err;
    }
  }

  /** The WebSocket handshake to `url`, resolved once open; refusals and timeouts in words. */
  private open(nodeId: string, url: string): Promise<{ ws: WebSocket; socket: Socket | undefined }> {
    const { selfId, secret, maxMessageSize, dialTimeoutMs } = this.options;
    const target = `${url.replace(/^http/, 'ws')}${PEER_PATH}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(target, SUBPROTOCOL, {
        headers: peerAuthHeaders(secret, selfId, nodeId),
        handshakeTimeout: dialTimeoutMs,
        perMessageDeflate: false,
        skipUTF8Validation: true,
        maxPayload: maxMessageSize,
      });
      const fail = (message: string): void => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(createError(ErrorCode.RELAY_UNREACHABLE, `relay node ${nodeId} at ${url}: ${message}`));
      };
      let socket: Socket | undefined;
      ws.once('upgrade', (res) => {
        socket = res.socket;
      });
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve({ ws, socket });
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let detail = `HTTP ${res.statusCode}`;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string; message?: string };
            if (body.message) detail = `${body.message} [${body.code}]`;
          } catch {
            // Not one of ours: the status says enough.
          }
          fail(`refused the peer link: ${detail}`);
        });
        res.on('error', () => fail(`refused the peer link: HTTP ${res.statusCode}`));
      });
      ws.once('error', (err) => fail(err.message || String(err)));
    });
  }
}
