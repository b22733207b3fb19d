import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { createError, ErrorCode } from '@tether/shared';

/** The dashboard's CSP: its own files only, no inline script or style, no remote content, no framing. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** One file of the built dashboard, held in memory (the whole bundle is a few hundred KiB). */
export interface DashboardFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Content-hashed names never change: cached for a year; index.html is revalidated each time. */
  immutable: boolean;
}

/** Reads every file under `root` (keys are URL paths below /admin/, `/` separated); empty when the dashboard is not built. */
export async function loadDashboard(root: string): Promise<Map<string, DashboardFile>> {
  const files = new Map<string, DashboardFile>();
  let names: string[];
  try {
    names = await readdir(root, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw err;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const path = join(root, name);
    const body = await readFile(path).catch((err: NodeJS.ErrnoException) => (err.code === 'EISDIR' ? undefined : Promise.reject(err)));
    if (!body) continue;
    const key = relative(root, path).split(sep).join('/');
    files.set(key, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, immutable: key !== 'index.html' });
  }
  return files;
}

/** The security headers of every dashboard response. */
export function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

export interface DashboardFilesOptions {
  /** The folder dashboard/build.mjs writes (index.html and assets/). */
  root: string;
}

/**
 * Serves the bundled dashboard: `/admin` and `/admin/` are its index.html (no-cache), everything
 * else below `/admin/` one of its content-hashed files (immutable), with ETags and a strict CSP.
 * Pages are routed by the URL's #fragment, so no other path is a page.
 */
export const dashboardFiles: FastifyPluginAsync<DashboardFilesOptions> = async (app, { root }) => {
  const files = await loadDashboard(root);
  const send = (key: string, ifNoneMatch: string | undefined, reply: FastifyReply): FastifyReply => {
    const file = files.get(key);
    securityHeaders(reply);
    if (!file) {
      throw key === 'index.html'
        ? createError(ErrorCode.NOT_FOUND, 'this relay has no dashboard built: run `npm run build` in the Tether repository')
        : createError(ErrorCode.NOT_FOUND, `no dashboard file /admin/${key}`);
    }
    void reply
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === file.etag)) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  };
  app.get('/admin', async (request, reply) => send('index.html', request.headers['if-none-match'], reply));
  app.get<{ Params: { '*': string } }>('/admin/*', async (request, reply) => {
    const key = request.params['*'];
    // /admin/api/... is the dashboard's JSON API (its own routes); an unknown one is a coded 404 there.
    return send(key === '' ? 'index.html' : key, request.headers['if-none-match'], reply);
  });
};
