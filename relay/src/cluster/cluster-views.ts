import type { FastifyBaseLogger } from 'fastify';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { RouterStats } from '../routing/router.js';
import type { HolderView, SessionView } from '../routing/router-views.js';
import type { NodeLoadSample } from '../metrics/node-load.js';
import type { NodeRegistry } from './node-registry.js';
import { peerAuthHeaders } from './peer-auth.js';

/** What one node says of itself for the admin views: its counts, load, streams and host links. */
export interface NodeSnapshot {
  node: string;
  version: string;
  startedAt: string;
  advertise: string | null;
  load: NodeLoadSample;
  stats: RouterStats;
  /** Refused opens and resets since the node started, by wire code name. */
  errorsByCode: Record<string, number>;
  sessions: SessionView[];
  holders: HolderView[];
}

/** A node that did not answer, and why. */
export interface Unreachable {
  node: string;
  advertise: string;
  error: string;
}

/** The paths other nodes answer on, with the cluster secret's proof (never a user token). */
export const SNAPSHOT_PATH = '/v1/cluster/snapshot';
export const TERMINATE_PATH = '/v1/cluster/terminate';

export interface ClusterViewsOptions {
  selfId: string;
  local: () => NodeSnapshot;
  terminateLocal: (linkId: number, streamId: number, why: string) => boolean;
  /** The cluster's nodes and secret; absent on a single relay. */
  cluster?: { nodes: NodeRegistry; secret: string };
  timeoutMs?: number;
  log: FastifyBaseLogger;
}

/**
 * The admin's cluster-wide views: this node's snapshot, and every other live node's, asked over
 * HTTP at its advertise URL with a proof made from the cluster secret. A node that does not
 * answer within the timeout is reported as unreachable, not left out silently.
 */
export class ClusterViews {
  private readonly timeoutMs: number;

  constructor(private readonly options: ClusterViewsOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async all(): Promise<{ snapshots: NodeSnapshot[]; unreachable: Unreachable[] }> {
    const snapshots = [this.options.local()];
    const unreachable: Unreachable[] = [];
    const cluster = this.options.cluster;
    if (!cluster) return { snapshots, unreachable };
    const others = (await cluster.nodes.list()).filter((n) => n.id !== this.options.selfId);
    await Promise.all(others.map(async (n) => {
      try {
        snapshots.push(await this.ask<NodeSnapshot>(n.id, n.advertise, 'GET', SNAPSHOT_PATH));
      } catch (err) {
        unreachable.push({ node: n.id, advertise: n.advertise, error: (err as Error).message });
      }
    }));
    snapshots.sort((a, b) => a.node.localeCompare(b.node));
    return { snapshots, unreachable };
  }

  /** Ends stream `streamId` of link `linkId` on `node`: false when it is gone already. */
  async terminate(node: string, linkId: number, streamId: number, why: string): Promise<boolean> {
    if (node === this.options.selfId) return this.options.terminateLocal(linkId, streamId, why);
    const cluster = this.options.cluster;
    const target = cluster && (await cluster.nodes.list()).find((n) => n.id === node);
    if (!target) throw createError(ErrorCode.NOT_FOUND, `no live relay node ${node}: the session ended with it`);
    const answer = await this.ask<{ terminated: boolean }>(node, target.advertise, 'POST', TERMINATE_PATH, { linkId, streamId, reason: why });
    return answer.terminated;
  }

  private async ask<T>(node: string, advertise: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const secret = this.options.cluster!.secret;
    let response: Response;
    try {
      response = await fetch(new URL(path, advertise), {
        method,
        headers: { ...peerAuthHeaders(secret, this.options.selfId, node), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
      this.options.log.warn({ node, advertise, err: why }, 'a relay node did not answer the admin view');
      throw unreachable(node, advertise, why);
    }
    const text = await response.text();
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // Not our JSON: the status says enough.
      }
      throw unreachable(node, advertise, message);
    }
    return JSON.parse(text) as T;
  }
}

const unreachable = (node: string, advertise: string, why: string): TetherError =>
  createError(ErrorCode.RELAY_UNREACHABLE, `relay node ${node} (${advertise}) did not answer: ${why}`);
