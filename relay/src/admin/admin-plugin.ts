import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ChainedAuditLog } from '../audit/chained-log.js';
import { auditVerifyRoutes } from './audit-verify.js';
import { dashboardFiles } from './dashboard-files.js';
import { sessionRoutes, type SessionRoutesOptions } from './session-routes.js';

export interface AdminPluginOptions extends SessionRoutesOptions {
  /** The built dashboard (default: relay/dist/dashboard, where dashboard/build.mjs writes it). */
  dashboardRoot?: string;
  /** The signed audit log, for the Audit page's verification of the chain. */
  auditLog?: ChainedAuditLog;
}

/** The relay's admin dashboard at /admin: its session (sign-in cookie, CSRF) and its static files. */
export const adminPlugin: FastifyPluginAsync<AdminPluginOptions> = async (app, options) => {
  await app.register(sessionRoutes, options);
  await app.register(auditVerifyRoutes, { log: options.auditLog });
  await app.register(dashboardFiles, { root: options.dashboardRoot ?? join(__dirname, '..', 'dashboard') });
};
