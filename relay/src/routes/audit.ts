import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { createError, ErrorCode, NAME_MAX_LENGTH } from '@tether/shared';
import type { ChainedAuditLog } from '../audit/chained-log.js';
import type { AuditFilter } from '../ports/audit-log.js';
import { formatCef } from '../audit/siem/cef.js';
import { formatHec } from '../audit/siem/hec.js';
import { formatRfc5424 } from '../audit/siem/rfc5424.js';

const TEXT = { type: 'string', maxLength: 200 } as const;
const TIME = { type: 'string', maxLength: 40, format: 'date-time' } as const;
/** Query strings are text (no coercion): whole numbers are checked by pattern and read with Number. */
const whole = (title: string) => ({ type: 'string', pattern: '^[0-9]{1,15}$', title: `${title} (a whole number)` }) as const;
const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

const filterProperties = {
  actor: TEXT,
  event: { type: 'string', maxLength: 64 },
  tunnel: { type: 'string', maxLength: NAME_MAX_LENGTH, title: 'tunnel name' },
  target: TEXT,
  outcome: { type: 'string', enum: ['success', 'failure'] },
  from: TIME,
  to: TIME,
} as const;

interface FilterQuery {
  actor?: string;
  event?: string;
  tunnel?: string;
  target?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

/** The store filter of a query; `tunnel=web` is `target=tunnel:web`, times normalised to ISO UTC. */
function toFilter(q: FilterQuery): AuditFilter {
  if (q.tunnel !== undefined && q.target !== undefined) throw createError(ErrorCode.INVALID_ARGUMENT, 'give tunnel or target, not both');
  const iso = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  return {
    actor: q.actor,
    event: q.event,
    target: q.tunnel !== undefined ? `tunnel:${q.tunnel}` : q.target,
    outcome: q.outcome,
    from: iso(q.from),
    to: iso(q.to),
  };
}

/**
 * The audit log's API (docs/relay.md, "Audit log"): records with filters and paging, JSONL export,
 * the public keys, signed checkpoints, and Merkle proofs. Reading the log is the relay admin's;
 * the public keys are for anyone signed in, since verifying needs nothing more.
 */
export const auditRoutes: FastifyPluginAsync<{ log: ChainedAuditLog | undefined; version?: string }> = async (app, { log, version = 'unknown' }) => {
  const theLog = (): ChainedAuditLog => {
    if (!log) throw createError(ErrorCode.NOT_FOUND, 'this relay keeps no audit log: start it with a data folder (tether relay --data DIR), or on Redis with --audit-keys FILE');
    return log;
  };

  app.get('/v1/audit/keys', { onRequest: app.requireIdentity }, async () => {
    const pem = theLog().publicKeys();
    return { pem, keys: theLog().keyList() };
  });

  app.register(async (admin) => {
    admin.addHook('onRequest', admin.requireAdmin);

    admin.get<{ Querystring: FilterQuery & { after?: string; limit?: string } }>('/v1/audit', {
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { ...filterProperties, after: whole('after'), limit: whole('limit') } } },
    }, async (request) => {
      const limit = num(request.query.limit) ?? 100;
      if (limit < 1 || limit > 1000) throw createError(ErrorCode.INVALID_ARGUMENT, 'limit must be 1 to 1000');
      const entries = await theLog().query(toFilter(request.query), num(request.query.after) ?? -1, limit);
      return { entries, next: entries.length === limit ? entries[entries.length - 1].index : null };
    });

    admin.get<{ Querystring: FilterQuery & { format?: string } }>('/v1/audit/export', {
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { ...filterProperties, format: { type: 'string', enum: ['jsonl', 'syslog', 'cef', 'hec'] } } } },
    }, async (request, reply) => {
      const chained = theLog();
      const filter = toFilter(request.query);
      // The SIEM formats are those the forwarders send (no framing: one message per line).
      const formats: Record<string, ((line: string) => string) | undefined> = {
        syslog: (line) => formatRfc5424(chained.view(line)),
        cef: (line) => formatCef(chained.view(line), version),
        hec: (line) => JSON.stringify(formatHec(chained.view(line))),
      };
      const format = formats[request.query.format ?? 'jsonl'];
      async function* lines(): AsyncGenerator<string> {
        let after = -1;
        for (;;) {
          const page = await chained.queryLines(filter, after, 1000);
          for (const { line } of page) yield `${format ? format(line) : line}\n`;
          if (page.length < 1000) return;
          after = page[page.length - 1].index;
        }
      }
      const text = request.query.format === 'syslog' || request.query.format === 'cef';
      return reply.type(text ? 'text/plain; charset=utf-8' : 'application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
    });

    admin.post('/v1/audit/checkpoint', async () => theLog().checkpoint());

    admin.post<{ Body: { before: string } }>('/v1/audit/prune', {
      schema: { body: { type: 'object', additionalProperties: false, required: ['before'], properties: { before: { ...TIME, title: 'before' } } } },
    }, async (request) => {
      const chained = theLog();
      if (!chained.archives) throw createError(ErrorCode.INVALID_ARGUMENT, 'this relay has no audit archive folder, and pruning without one would lose the records: start it with --audit-archive DIR');
      const before = new Date(request.body.before);
      if (before.getTime() > Date.now()) throw createError(ErrorCode.INVALID_ARGUMENT, 'before must not be in the future');
      const pruned = await chained.prune(before.toISOString(), request.identity);
      return pruned ? { pruned: pruned.to - pruned.from, from: pruned.from, to: pruned.to - 1, archive: pruned.archive ?? null, checkpoint: pruned.checkpoint } : { pruned: 0 };
    });

    admin.get<{ Querystring: { limit?: string } }>('/v1/audit/checkpoints', {
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: whole('limit') } } },
    }, async (request) => ({ checkpoints: await theLog().checkpoints(Math.max(1, Math.min(num(request.query.limit) ?? 1000, 10_000))) }));

    admin.get<{ Querystring: { index: string; size?: string } }>('/v1/audit/proof', {
      schema: { querystring: { type: 'object', additionalProperties: false, required: ['index'], properties: { index: whole('index'), size: whole('size') } } },
    }, async (request) => {
      const chained = theLog();
      const current = await chained.size();
      const size = num(request.query.size) ?? current;
      const index = Number(request.query.index);
      if (size > current) throw createError(ErrorCode.INVALID_ARGUMENT, `the log has ${current} records, fewer than size ${size}`);
      if (index >= size) throw createError(ErrorCode.INVALID_ARGUMENT, `index ${index} is not in a tree of ${size} records (indexes run from 0 to ${size - 1})`);
      const { leaf, proof, root } = await chained.inclusion(index, size);
      return { index, size, leaf, root, proof };
    });

    admin.get<{ Querystring: { from: string; to?: string } }>('/v1/audit/consistency', {
      schema: { querystring: { type: 'object', additionalProperties: false, required: ['from'], properties: { from: whole('from'), to: whole('to') } } },
    }, async (request) => {
      const chained = theLog();
      const current = await chained.size();
      const to = num(request.query.to) ?? current;
      const from = Number(request.query.from);
      if (from < 1) throw createError(ErrorCode.INVALID_ARGUMENT, 'from must be at least 1 (a consistency proof from an empty tree is empty)');
      if (to > current) throw createError(ErrorCode.INVALID_ARGUMENT, `the log has ${current} records, fewer than ${to}`);
      if (from > to) throw createError(ErrorCode.INVALID_ARGUMENT, `from (${from}) must not be past to (${to})`);
      return { from, to, ...(await chained.consistency(from, to)) };
    });
  });
};
