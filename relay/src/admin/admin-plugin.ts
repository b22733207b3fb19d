import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { dashboardFiles } from './dashboard-files.js';
import { sessionRoutes, type SessionRoutesOptions } from './session-routes.js';

export interface AdminPluginOptions extends SessionRoutesOptions {
  /** The built dashboard (default: relay/dist/dashboard, where dashboard/build.mjs writes it). */
  dashboardRoot?: string;
}

/** The relay's admin dashboard at /admin: its session (sign-in cookie, CSRF) and its static files. */
export const adminPlugin: FastifyPluginAsync<AdminPluginOptions> = async (app, options) => {
  await app.register(sessionRoutes, options);
  await app.register(dashboardFiles, { root: options.dashboardRoot ?? join(__dirname, '..', 'dashboard') });
};
