import type { FastifyPluginAsync } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import type { Policy } from '../policy/policy.js';
import type { Identity } from '../identity.js';
import type { Clock } from '../ports/clock.js';
import { STEP_MS, type UsageStep, type UsageStore } from '../ports/usage-store.js';
import type { UsageRecorder } from '../analytics/usage-recorder.js';
import { aggregate, type ForecastMetric, type UsageGroup } from '../analytics/aggregate.js';
import { forecastUsage, HISTORY_MS, parseHorizon } from '../analytics/usage-forecast.js';

const time = (name: string) => ({ type: 'string', maxLength: 40, format: 'date-time', title: `${name} (an ISO 8601 time such as 2026-12-01T10:00:00Z)` }) as const;
/** Most buckets a listing covers: a longer range asks for a coarser step. */
const MAX_BUCKETS = 5000;
const DEFAULT_SPAN: Record<UsageStep, number> = { minute: 3_600_000, hour: 86_400_000, day: 30 * 86_400_000 };

interface ListQuery {
  by?: UsageGroup;
  step?: UsageStep;
  from?: string;
  to?: string;
}

interface ForecastQuery {
  metric: ForecastMetric;
  horizon: string;
  scope?: 'node' | 'cluster';
  node?: string;
  capacity?: string;
}

/**
 * Usage analytics (docs/analytics.md): roll-ups per tunnel, user or node, and forecasts. A user
 * sees the tunnels they own (every user's use of them); the relay admin sees everything.
 */
export const analyticsRoutes: FastifyPluginAsync<{ store: UsageStore; policy: Policy; clock: Clock; nodeId: string; recorder?: UsageRecorder }> = async (app, { store, policy, clock, nodeId, recorder }) => {
  app.addHook('onRequest', app.requireIdentity);

  /** The tunnels whose rows `identity` may read (undefined: all, for the admin). */
  const readable = async (identity: Identity): Promise<string[] | undefined> => {
    if (identity.admin) return undefined;
    return (await policy.visibleTunnels(identity)).filter((t) => t.role === 'owner').map((t) => t.name);
  };

  app.get<{ Querystring: ListQuery }>('/v1/analytics', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          by: { type: 'string', enum: ['tunnel', 'user', 'node'], title: 'by (tunnel, user or node)' },
          step: { type: 'string', enum: ['minute', 'hour', 'day'], title: 'step (minute, hour or day)' },
          from: time('from'),
          to: time('to'),
        },
      },
    },
  }, async (request) => {
    const by = request.query.by ?? 'tunnel';
    const step = request.query.step ?? 'hour';
    const now = clock.now();
    const to = request.query.to !== undefined ? Date.parse(request.query.to) : now + 1;
    const from = request.query.from !== undefined ? Date.parse(request.query.from) : to - DEFAULT_SPAN[step];
    if (!(from < to)) throw createError(ErrorCode.INVALID_ARGUMENT, 'from must be before to');
    const buckets = Math.ceil((to - from) / STEP_MS[step]);
    if (buckets > MAX_BUCKETS) throw createError(ErrorCode.INVALID_ARGUMENT, `from..to holds ${buckets} ${step}s, more than ${MAX_BUCKETS}: shorten the range or use a coarser step (step=hour or step=day)`);
    // What was counted but not yet written shows at once.
    await recorder?.flush();
    const tunnels = await readable(request.identity!);
    const start = Math.floor(from / STEP_MS[step]) * STEP_MS[step];
    const rows = tunnels && tunnels.length === 0 ? [] : await store.query({ step, from: start, to, tunnels });
    return { by, step, from: new Date(start).toISOString(), to: new Date(to).toISOString(), rows: aggregate(rows, by) };
  });

  app.get<{ Querystring: ForecastQuery }>('/v1/analytics/forecast', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['metric', 'horizon'],
        properties: {
          metric: { type: 'string', enum: ['streams', 'bytes', 'tunnels'], title: 'metric (streams, bytes or tunnels)' },
          horizon: { type: 'string', maxLength: 20, title: 'horizon (a duration such as 48h, 7d or 2w)' },
          scope: { type: 'string', enum: ['node', 'cluster'], title: 'scope (node or cluster)' },
          node: { type: 'string', maxLength: 200 },
          capacity: { type: 'string', pattern: '^[0-9]{1,15}(\\.[0-9]{1,6})?$', title: 'capacity (a positive number)' },
        },
      },
    },
  }, async (request) => {
    const q = request.query;
    const horizonMs = parseHorizon(q.horizon);
    const capacity = q.capacity === undefined ? undefined : Number(q.capacity);
    if (capacity !== undefined && !(capacity > 0)) throw createError(ErrorCode.INVALID_ARGUMENT, 'capacity must be a positive number (streams, bytes per hour or tunnels)');
    const scope = q.scope ?? 'cluster';
    if (q.node !== undefined && scope !== 'node') throw createError(ErrorCode.INVALID_ARGUMENT, 'node is for scope=node: add scope=node or leave node out');
    const node = scope === 'node' ? (q.node ?? nodeId) : undefined;
    await recorder?.flush();
    const now = clock.now();
    const tunnels = await readable(request.identity!);
    const from = Math.floor((now - HISTORY_MS) / STEP_MS.hour) * STEP_MS.hour;
    let rows = tunnels && tunnels.length === 0 ? [] : await store.query({ step: 'hour', from, to: now + 1, tunnels });
    if (node !== undefined) rows = rows.filter((r) => r.node === node);
    return forecastUsage(rows, { metric: q.metric, scope, node, horizonMs, now, capacity });
  });
};
