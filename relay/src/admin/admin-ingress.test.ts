import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { createTestRelay, HANG_GUARD } from '../test-support/testing.js';
import { DASHBOARD_CSP } from './dashboard-files.js';

/** GET `path` with a Host header of our choosing: status and headers. */
function get(url: string, host: string, path: string): Promise<{ status: number; csp: string | undefined }> {
  const { port } = new URL(url.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, csp: res.headers['content-security-policy'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('with --public-domain, /admin on the relay\'s own host is the dashboard; under the domain it is a tunnel\'s', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { publicDomain: 'tether.test' });
  const url = await relay.listen();
  // The dashboard answers (its files, or a coded 404 when not built) with its CSP either way.
  for (const host of ['tether.test', '127.0.0.1']) {
    const own = await get(url, host, '/admin');
    assert.equal(own.csp, DASHBOARD_CSP, host);
  }
  const tunnels = await get(url, 'web.tether.test', '/admin');
  assert.equal(tunnels.csp, undefined, 'the ingress answered for the tunnel web, not the dashboard');
  assert.notEqual(tunnels.status, 200);
});
