import type { FastifyPluginAsync } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';
import { parsePublicKeys, verifyLog } from '@tether/shared/audit';
import type { ChainedAuditLog } from '../audit/chained-log.js';

/** Most records verified on request: past this, export the log and verify it offline. */
export const MAX_VERIFY_RECORDS = 500_000;
const PAGE = 1000;

export interface AuditVerifyOptions {
  log: ChainedAuditLog | undefined;
  maxRecords?: number;
}

/**
 * `GET /admin/api/audit/verify` (admin): the whole stored log checked the way `tether audit
 * verify` checks an export (every record canonical, chained to the one before, every signed
 * checkpoint's signature and Merkle root), so the dashboard can say whether the chain holds.
 */
export const auditVerifyRoutes: FastifyPluginAsync<AuditVerifyOptions> = async (app, { log, maxRecords = MAX_VERIFY_RECORDS }) => {
  app.get('/admin/api/audit/verify', { onRequest: app.requireAdmin }, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    if (!log) throw createError(ErrorCode.NOT_FOUND, 'this relay keeps no audit log: start it with a data folder (tether relay --data DIR), or on Redis with --audit-keys FILE');
    await log.flush();
    const lines: string[] = [];
    let after = -1;
    for (;;) {
      const page = await log.queryLines({}, after, PAGE);
      for (const { line } of page) lines.push(line);
      if (lines.length > maxRecords) throw createError(ErrorCode.INVALID_ARGUMENT, `the audit log holds more than ${maxRecords} records: export it (GET /v1/audit/export) and run tether audit verify on the file`);
      if (page.length < PAGE) break;
      after = page[page.length - 1].index;
    }
    const checkpoints = await log.checkpoints();
    const verdict = verifyLog(lines, { keys: parsePublicKeys(log.publicKeys()), checkpoints });
    return { ...verdict, checkpoints: checkpoints.length, verifiedAt: new Date().toISOString() };
  });
};
