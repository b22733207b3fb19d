import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { ErrorCode } from '@tether/shared';
import { installErrorHandlers } from '../http-errors.js';
import { DASHBOARD_CSP, dashboardFiles } from './dashboard-files.js';

async function serve(t: import('node:test').TestContext, files: Record<string, string> | undefined) {
  const root = await mkdtemp(join(tmpdir(), 'tether-dash-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'dashboard');
  if (files) {
    await mkdir(join(dir, 'assets'), { recursive: true });
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  }
  const app = Fastify();
  installErrorHandlers(app);
  await app.register(dashboardFiles, { root: dir });
  t.after(() => app.close());
  return app;
}

test('index.html is served at /admin and /admin/ with no-cache; hashed assets are immutable; both with the CSP and an ETag', async (t) => {
  const app = await serve(t, { 'index.html': '<!doctype html><title>x</title>', 'assets/main-ABC123.js': 'console.log(1)', 'assets/main-ABC123.css': 'body{}' });
  for (const url of ['/admin', '/admin/']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
  }
  const js = await app.inject({ url: '/admin/assets/main-ABC123.js' });
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(js.body, 'console.log(1)');
  const etag = String(js.headers.etag);
  assert.match(etag, /^"[\w-]{27}"$/);
  const again = await app.inject({ url: '/admin/assets/main-ABC123.js', headers: { 'if-none-match': etag } });
  assert.deepEqual([again.statusCode, again.body], [304, '']);
  const css = await app.inject({ url: '/admin/assets/main-ABC123.css', headers: { 'if-none-match': '"other"' } });
  assert.deepEqual([css.statusCode, css.headers['content-type']], [200, 'text/css; charset=utf-8']);
  const head = await app.inject({ method: 'HEAD', url: '/admin' });
  assert.equal(head.statusCode, 200);
});

test('paths that are no file are a coded 404, never a file outside the dashboard', async (t) => {
  const app = await serve(t, { 'index.html': 'x' });
  for (const url of ['/admin/assets/nope.js', '/admin/../package.json', '/admin/%2e%2e/%2e%2e/etc/passwd', '/admin/api/unknown']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.json<{ code: string }>().code, ErrorCode.NOT_FOUND, url);
  }
});

test('a relay without a built dashboard says how to build it', async (t) => {
  const app = await serve(t, undefined);
  const res = await app.inject({ url: '/admin' });
  assert.equal(res.statusCode, 404);
  assert.match(res.json<{ message: string }>().message, /npm run build/);
  assert.equal(res.headers['content-security-policy'], DASHBOARD_CSP);
});
