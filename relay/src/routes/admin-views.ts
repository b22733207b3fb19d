import type { FastifyPluginAsync } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { ClusterViews, NodeSnapshot } from '../cluster/cluster-views.js';
import type { TunnelRecord } from '../ports/store.js';
import type { Policy } from '../policy/policy.js';
import type { TunnelRegistry } from '../ports/tunnel-registry.js';
import type { HolderView, SessionView } from '../routing/router-views.js';
import { parseSessionId } from '../routing/router-views.js';
import type { RateLimits } from '../limits/rate-limits.js';
import type { RuleOrOff } from '../limits/rules.js';

export interface AdminViewOptions {
  policy: Policy;
  registry: TunnelRegistry;
  views: ClusterViews;
  auditor: Auditor;
  nodeId: string;
  /** The relay's rate limits, when it has any, and whether they only count (shadow mode). */
  rates?: RateLimits;
  shadow: boolean;
}

/** A page of rows: `offset` and `limit` (1-500, default 50) from the query, as whole numbers in text. */
const paging = {
  offset: { type: 'string', pattern: '^[0-9]{1,7}$', title: 'offset (a whole number)' },
  limit: { type: 'string', pattern: '^([1-9][0-9]?|[1-4][0-9][0-9]|500)$', title: 'limit (1 to 500)' },
} as const;

interface Paging { offset?: string; limit?: string }
interface TunnelQuery extends Paging { q?: string; status?: 'all' | 'online' | 'offline' | 'disabled' }
interface SessionQuery extends Paging { tunnel?: string; user?: string }

const pageOf = (query: Paging): { offset: number; limit: number } => ({ offset: Number(query.offset ?? 0), limit: Number(query.limit ?? 50) });

/** A tunnel row of the dashboard: the record, where it is held now, and what flows through it. */
export function tunnelRow(t: TunnelRecord, holders: HolderView[], online: boolean): Record<string, unknown> {
  return {
    name: t.name,
    owner: t.ownerName,
    createdAt: t.createdAt,
    lastHostedAt: t.lastHostedAt,
    online,
    onlineSince: holders.length === 0 ? null : holders.map((h) => h.since).sort()[0],
    disabled: Boolean(t.disabledAt),
    disabledAt: t.disabledAt ?? null,
    disabledReason: t.disabledReason ?? null,
    holders,
    streams: holders.reduce((n, h) => n + h.streams, 0),
    bytesIn: holders.reduce((n, h) => n + h.bytesIn, 0),
    bytesOut: holders.reduce((n, h) => n + h.bytesOut, 0),
  };
}

/** The rules as rows: `api.perIdentity` with its rate, period, burst (and lockout), or off. */
export function ruleRows(rules: object, prefix = ''): { rule: string; off: boolean; rate?: number; periodMs?: number; burst?: number; lockoutMs?: number }[] {
  const rows: ReturnType<typeof ruleRows> = [];
  for (const [key, value] of Object.entries(rules)) {
    const name = prefix === '' ? key : prefix === 'api.perRoute' ? `${prefix}[${key}]` : `${prefix}.${key}`;
    const rule = value as RuleOrOff | object;
    if (rule === false) rows.push({ rule: name, off: true });
    else if (typeof rule === 'object' && rule !== null && 'rate' in rule) {
      rows.push({ rule: name, off: false, rate: rule.rate, periodMs: rule.periodMs, burst: rule.burst, ...(rule.lockoutMs === undefined ? {} : { lockoutMs: rule.lockoutMs }) });
    } else if (typeof rule === 'object' && rule !== null) rows.push(...ruleRows(rule, name));
  }
  return rows;
}

const sumInto = (into: Record<string, number>, from: Record<string, number>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/**
 * The relay admin's views of the whole cluster (docs/admin-dashboard.md): overview, tunnels with
 * their holders, sessions (one row per stream, terminable), tunnel disable/enable, rate limits.
 * Every figure comes from the nodes themselves (ClusterViews); a node that does not answer is
 * listed as unreachable with why.
 */
export const adminViewRoutes: FastifyPluginAsync<AdminViewOptions> = async (app, { policy, registry, views, auditor, nodeId, rates, shadow }) => {
  app.addHook('onRequest', app.requireAdmin);

  app.get('/v1/admin/overview', async () => {
    const { snapshots, unreachable } = await views.all();
    const errorsByCode: Record<string, number> = {};
    for (const s of snapshots) sumInto(errorsByCode, s.errorsByCode);
    return {
      node: nodeId,
      nodes: [
        ...snapshots.map((s) => nodeRow(s, s.node === nodeId)),
        ...unreachable.map((u) => ({ id: u.node, advertise: u.advertise, healthy: false, self: false, error: u.error })),
      ],
      tunnelsOnline: new Set(snapshots.flatMap((s) => s.holders.map((h) => h.tunnel))).size,
      streams: snapshots.reduce((n, s) => n + s.sessions.length, 0),
      links: snapshots.reduce((n, s) => n + s.stats.hosts + s.stats.connectors, 0),
      errorsByCode,
      unreachable,
    };
  });

  app.get<{ Querystring: TunnelQuery }>('/v1/admin/tunnels', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { q: { type: 'string', maxLength: 256, title: 'search' }, status: { type: 'string', enum: ['all', 'online', 'offline', 'disabled'], title: 'status' }, ...paging },
      },
    },
  }, async (request) => {
    const { q, status = 'all' } = request.query;
    const { offset, limit } = pageOf(request.query);
    const needle = q?.trim().toLowerCase() ?? '';
    const records = (await policy.visibleTunnels(request.identity!)).filter((t) => needle === '' || t.name.toLowerCase().includes(needle) || t.ownerName.toLowerCase().includes(needle));
    const [{ snapshots, unreachable }, leases] = await Promise.all([views.all(), registry.lookupMany(records.map((t) => t.name))]);
    const holders = new Map<string, HolderView[]>();
    for (const h of snapshots.flatMap((s) => s.holders)) holders.set(h.tunnel, [...(holders.get(h.tunnel) ?? []), h]);
    const online = (t: TunnelRecord): boolean => leases.has(t.name) || holders.has(t.name);
    const chosen = records.filter((t) =>
      status === 'all' ? true : status === 'disabled' ? Boolean(t.disabledAt) : status === 'online' ? online(t) : !online(t));
    return {
      total: chosen.length,
      offset,
      tunnels: chosen.slice(offset, offset + limit).map((t) => tunnelRow(t, holders.get(t.name) ?? [], online(t))),
      unreachable,
    };
  });

  app.get<{ Querystring: SessionQuery }>('/v1/admin/sessions', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { tunnel: { type: 'string', maxLength: 256, title: 'tunnel' }, user: { type: 'string', maxLength: 256, title: 'user' }, ...paging },
      },
    },
  }, async (request) => {
    const { tunnel, user } = request.query;
    const { offset, limit } = pageOf(request.query);
    const { snapshots, unreachable } = await views.all();
    const rows = snapshots.flatMap((s) => s.sessions)
      .filter((s) => (!tunnel || s.tunnel === tunnel) && (!user || s.user === user))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.id.localeCompare(b.id));
    return { total: rows.length, offset, sessions: rows.slice(offset, offset + limit), unreachable };
  });

  app.delete<{ Params: { id: string } }>('/v1/admin/sessions/:id', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 256, title: 'session id' } } } },
  }, async (request, reply) => {
    const parsed = parseSessionId(request.params.id);
    if (!parsed) throw createError(ErrorCode.INVALID_ARGUMENT, 'a session id is NODE:LINK:STREAM, as the sessions list gives it');
    const { snapshots } = await views.all();
    const session: SessionView | undefined = snapshots.flatMap((s) => s.sessions).find((s) => s.id === request.params.id);
    const why = `terminated by the relay admin (${request.identity!.name})`;
    if (!session || !(await views.terminate(parsed.node, parsed.linkId, parsed.streamId, why))) {
      throw createError(ErrorCode.NOT_FOUND, `no session ${request.params.id}: it has ended already`);
    }
    auditor.record(AuditEventCode.STREAM_TERMINATED, request.identity, 'relay.manage', `tunnel:${session.tunnel}`, {
      reason: why,
      detail: { user: session.user, source: session.source, node: session.node, up: session.up, down: session.down },
    });
    request.log.info({ session: session.id, tunnel: session.tunnel, by: request.identity!.name }, 'session terminated');
    return reply.code(204).send();
  });

  app.get('/v1/admin/rate-limits', async () => ({
    node: nodeId,
    enabled: rates !== undefined,
    shadow,
    rules: rates ? ruleRows(rates.rules) : [],
    refusals: rates ? rates.refusals.snapshot() : { byRule: [], recent: [] },
  }));
};

function nodeRow(s: NodeSnapshot, self: boolean): Record<string, unknown> {
  return {
    id: s.node,
    advertise: s.advertise,
    version: s.version,
    startedAt: s.startedAt,
    healthy: !s.stats.draining,
    draining: s.stats.draining,
    self,
    links: s.stats.hosts + s.stats.connectors,
    hosts: s.stats.hosts,
    streams: s.stats.streams,
    bytesIn: s.stats.bytesIn,
    bytesOut: s.stats.bytesOut,
    load: s.load,
  };
}
