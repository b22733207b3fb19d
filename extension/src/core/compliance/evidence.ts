import { AccessReplay, tunnelOf, userOf } from './access-replay.js';
import type { AdminAction, DeniedAccess, Evidence, EvidenceRecord, FailedSignInSource, Grant, ReportPeriod, Review, SessionsOfTunnel } from './evidence-types.js';

/** The events a report lists as administration (users, tunnels, sharing settings). */
export const ADMIN_EVENTS: ReadonlySet<string> = new Set(['user.created', 'user.deleted', 'user.token_rotated', 'tunnel.deleted', 'tunnel.settings_changed']);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);

/**
 * The evidence of a period from the log's records (details opened), pure: `records` are every
 * record from index 0 up to the period's end, in index order, so access held at the end can be
 * replayed from the start; the figures other than access held count the period's records only.
 */
export function computeEvidence(records: readonly EvidenceRecord[], period: ReportPeriod): Evidence {
  const from = Date.parse(period.from);
  const to = Date.parse(period.to);
  const inPeriod = (time: string) => {
    const t = Date.parse(time);
    return t >= from && t <= to;
  };
  const replay = new AccessReplay();
  const grants: Grant[] = [];
  const requests = new Map<string, Review & { inPeriod: boolean }>();
  const signIns = new Map<string, number>();
  const failed = new Map<string, FailedSignInSource & { fingerprints: Set<string> }>();
  const denied = new Map<string, DeniedAccess>();
  const sessions = new Map<string, SessionsOfTunnel & { userSet: Set<string> }>();
  const adminActions: AdminAction[] = [];
  let failedTotal = 0;
  let first: number | null = null;
  let last: number | null = null;
  let periodRecords = 0;
  let unreadable = 0;
  let replayed = 0;

  const tunnelSessions = (tunnel: string) => {
    let s = sessions.get(tunnel);
    if (!s) sessions.set(tunnel, (s = { tunnel, sessions: 0, up: 0, down: 0, durationMs: 0, users: [], refused: 0, userSet: new Set() }));
    return s;
  };
  const request = (id: string, tunnel: string) => {
    let r = requests.get(id);
    if (!r) requests.set(id, (r = { request: id, tunnel, user: null, role: null, requestedAt: null, reviewers: [], outcome: 'pending', until: null, inPeriod: false }));
    return r;
  };

  for (const record of records) {
    if (Date.parse(record.time) > to) break;
    replayed++;
    replay.advanceTo(record.time);
    replay.apply(record);
    if (!inPeriod(record.time)) {
      // Before the period: only what later records need (who asked for a request).
      if (record.event === 'request.created') {
        const r = request(text(record.details?.detail?.request) ?? `#${record.index}`, tunnelOf(record.target) ?? record.target);
        r.user = userOf(record.actor);
        r.role = text(record.details?.detail?.role) ?? null;
        r.requestedAt = record.time;
      }
      continue;
    }
    periodRecords++;
    first ??= record.index;
    last = record.index;
    if (record.details === null) unreadable++;
    const details = record.details ?? {};
    const detail = details.detail ?? {};
    const tunnel = tunnelOf(record.target);
    switch (record.event) {
      case 'member.granted':
        if (tunnel && text(detail.user)) {
          const expires = text(detail.expiresAt);
          grants.push({ index: record.index, time: record.time, tunnel, user: text(detail.user)!, role: text(detail.role) ?? 'unknown', source: text(detail.source) ?? 'unknown', expiresAt: expires === undefined || expires === 'never' ? null : expires, by: record.actor });
        }
        break;
      case 'request.created': {
        const r = request(text(detail.request) ?? `#${record.index}`, tunnel ?? record.target);
        Object.assign(r, { user: userOf(record.actor), role: text(detail.role) ?? null, requestedAt: record.time, inPeriod: true });
        break;
      }
      case 'request.reviewed': {
        const r = request(text(detail.request) ?? `#${record.index}`, tunnel ?? record.target);
        r.inPeriod = true;
        r.user ??= text(detail.user) ?? null;
        r.reviewers.push({ by: record.actor, decision: text(detail.decision) ?? 'unknown', time: record.time });
        break;
      }
      case 'request.approved':
      case 'request.denied': {
        const r = request(text(detail.request) ?? `#${record.index}`, tunnel ?? record.target);
        r.inPeriod = true;
        r.outcome = record.event === 'request.approved' ? 'approved' : 'denied';
        r.until = text(detail.until) ?? null;
        break;
      }
      case 'access.granted':
        if (details.action === 'relay.connect') signIns.set(userOf(record.actor), (signIns.get(userOf(record.actor)) ?? 0) + 1);
        break;
      case 'access.denied': {
        const key = [record.actor, details.action ?? '?', record.target, details.rule ?? '?'].join('\u0000');
        const d = denied.get(key) ?? { actor: record.actor, action: details.action ?? 'unknown', target: record.target, rule: details.rule ?? 'unknown', count: 0 };
        d.count++;
        denied.set(key, d);
        if (details.action === 'tunnel.connect' && tunnel) tunnelSessions(tunnel).refused++;
        break;
      }
      case 'auth.failed': {
        failedTotal++;
        const address = text(detail.address) ?? 'unknown';
        const f = failed.get(address) ?? { address, count: 0, tokens: 0, first: record.time, last: record.time, fingerprints: new Set<string>() };
        f.count++;
        f.last = record.time;
        if (text(detail.token)) f.fingerprints.add(text(detail.token)!);
        failed.set(address, f);
        break;
      }
      case 'stream.closed':
        if (tunnel) {
          const s = tunnelSessions(tunnel);
          s.sessions++;
          s.up += count(detail.up);
          s.down += count(detail.down);
          s.durationMs += count(detail.durationMs);
          s.userSet.add(userOf(record.actor));
        }
        break;
      default:
    }
    if (ADMIN_EVENTS.has(record.event)) adminActions.push({ index: record.index, time: record.time, event: record.event, actor: record.actor, target: record.target });
  }
  replay.advanceTo(period.to);

  const byName = <T>(key: (t: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));
  return {
    period,
    records: { inPeriod: periodRecords, first, last, unreadable, replayed },
    accessHolders: replay.list(),
    grants,
    removals: replay.ends.filter((e) => inPeriod(e.time)),
    reviews: [...requests.values()].filter((r) => r.inPeriod).map(({ inPeriod: _, ...r }) => r),
    signIns: [...signIns].map(([user, n]) => ({ user, count: n })).sort(byName((s) => s.user)),
    failedSignIns: {
      total: failedTotal,
      bySource: [...failed.values()].map(({ fingerprints, ...f }) => ({ ...f, tokens: fingerprints.size })).sort((a, b) => b.count - a.count || a.address.localeCompare(b.address)),
    },
    denied: [...denied.values()].sort((a, b) => b.count - a.count || a.actor.localeCompare(b.actor)),
    sessionsPerTunnel: [...sessions.values()].map(({ userSet, ...s }) => ({ ...s, users: [...userSet].sort() })).sort(byName((s) => s.tunnel)),
    adminActions,
  };
}
