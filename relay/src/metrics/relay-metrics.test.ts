import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { encodeData, encodeOpen, encodeOpenMetadata, encodeReset, ErrorCode, FrameType, newStreamIdentity, resumeHello, WireCode } from '@tether/shared';
import { startRelay, type RunningRelay } from '../server.js';
import { parseExposition, sample, type Exposition } from '../test-support/exposition.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, hostAndConnector, openLink, openStream, waitFor, type TestRelay } from '../test-support/testing.js';

async function scrape(relay: TestRelay): Promise<Exposition> {
  const res = await relay.app.inject({ method: 'GET', url: '/metrics', headers: bearer(ADMIN_TOKEN) });
  assert.equal(res.statusCode, 200, res.body);
  return parseExposition(res.body);
}

test('GET /metrics on the main port: 401 without a token, 403 with a user token, the exposition with the admin token', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  const token = await createUser(relay, 'alice');
  const none = await relay.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(none.statusCode, 401);
  assert.equal(none.json<{ code: string }>().code, ErrorCode.UNAUTHORIZED);
  const user = await relay.app.inject({ method: 'GET', url: '/metrics', headers: bearer(token) });
  assert.equal(user.statusCode, 403);
  assert.equal(user.json<{ code: string }>().code, ErrorCode.FORBIDDEN);
  const bad = await relay.app.inject({ method: 'GET', url: '/metrics', headers: bearer('not-a-token-of-this-relay') });
  assert.equal(bad.statusCode, 401);
  const admin = await relay.app.inject({ method: 'GET', url: '/metrics', headers: bearer(ADMIN_TOKEN) });
  assert.equal(admin.statusCode, 200);
  assert.match(String(admin.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const parsed = parseExposition(admin.body);
  assert.equal(sample(parsed, 'tether_streams_opened_total'), 0);
  assert.ok(parsed.types.has('process_cpu_user_seconds_total'), 'Node process metrics');
});

test('a stream through the relay shows in the instruments: links, tunnels, streams, bytes by direction, open latency, resets', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  await waitFor(() => relay.router.hostFor('web') !== undefined);
  const hostId = await openStream(pair, 1);
  pair.connector.send(encodeData(1, Buffer.alloc(1000)));
  await pair.host.nextOf(FrameType.DATA, hostId);
  pair.host.send(encodeData(hostId, Buffer.alloc(300)));
  await pair.connector.nextOf(FrameType.DATA, 1);

  let m = await scrape(relay);
  assert.equal(sample(m, 'tether_links', { role: 'host' }), 1);
  assert.equal(sample(m, 'tether_links', { role: 'connector' }), 1);
  assert.equal(sample(m, 'tether_tunnels_online'), 1);
  assert.equal(sample(m, 'tether_streams_active'), 1);
  assert.equal(sample(m, 'tether_streams_opened_total'), 1);
  assert.equal(sample(m, 'tether_stream_bytes_total', { direction: 'up' }), 1000);
  assert.equal(sample(m, 'tether_stream_bytes_total', { direction: 'down' }), 300);
  assert.equal(sample(m, 'tether_stream_open_seconds_count'), 1);
  assert.ok(sample(m, 'tether_stream_open_seconds_sum')! > 0);
  assert.equal(sample(m, 'tether_open_lookup_seconds_count'), 1);

  pair.connector.send(encodeReset(1, WireCode.CANCELLED, 'done'));
  await pair.host.nextOf(FrameType.RESET, hostId);
  pair.connector.send(encodeData(99, Buffer.alloc(1)));
  await pair.connector.nextOf(FrameType.RESET, 99);
  // A refused open: no such tunnel.
  pair.connector.send(encodeOpen(3, 65_536, 'nope'));
  await pair.connector.nextOf(FrameType.OPEN_ERR, 3);
  m = await scrape(relay);
  assert.equal(sample(m, 'tether_streams_active'), 0);
  assert.equal(sample(m, 'tether_streams_reset_total', { code: String(WireCode.CANCELLED), by: 'opener' }), 1);
  assert.equal(sample(m, 'tether_open_refused_total', { code: String(WireCode.TUNNEL_UNKNOWN) }), 1);

  pair.host.close();
  await waitFor(() => relay.router.hostFor('web') === undefined);
  m = await scrape(relay);
  assert.equal(sample(m, 'tether_tunnels_online'), 0);
  assert.equal(sample(m, 'tether_links', { role: 'host' }), 0);
});

test('an OPEN carrying a RESUME hello counts as a resume; a NEW hello and malformed metadata do not', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  await waitFor(() => relay.router.hostFor('web') !== undefined);
  const { id, secret } = newStreamIdentity();
  const metas = [encodeOpenMetadata({ hello: { kind: 'new', id, secret } }), encodeOpenMetadata({ hello: resumeHello(id, secret, 1, 0) }), Buffer.from([1, 0])];
  for (const [i, meta] of metas.entries()) {
    pair.connector.send(encodeOpen(1 + 2 * i, 65_536, 'web', meta));
    await pair.host.nextOf(FrameType.OPEN);
  }
  const m = await scrape(relay);
  assert.equal(sample(m, 'tether_streams_resumed_total'), 1);
  assert.equal(sample(m, 'tether_streams_opened_total'), 3);
});

test('a reset code a peer makes up is labelled other, so peers cannot mint series', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  await waitFor(() => relay.router.hostFor('web') !== undefined);
  for (const [id, code] of [[1, 4242], [3, 4243]] as const) {
    const hostId = await openStream(pair, id);
    pair.host.send(encodeReset(hostId, code, 'made up'));
    await pair.connector.nextOf(FrameType.RESET, id);
  }
  const m = await scrape(relay);
  assert.equal(sample(m, 'tether_streams_reset_total', { code: 'other', by: 'host' }), 2);
});

test('per-tunnel labels are off by default, and with metricsTunnelLabels N only N tunnels are named', HANG_GUARD, async (t) => {
  const plain = await createTestRelay(t);
  await plain.listen();
  const plainPair = await hostAndConnector(plain);
  await waitFor(() => plain.router.hostFor('web') !== undefined);
  await openStream(plainPair, 1);
  assert.equal((await scrape(plain)).samples.some((s) => 'tunnel' in s.labels), false, 'no tunnel names unless asked for');

  const relay = await createTestRelay(t, {}, ':memory:', { metricsTunnelLabels: 1 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const token = pair.token;
  const api = await openLink(relay, '/v1/host?tunnel=api', token);
  await waitFor(() => relay.router.hostFor('web') !== undefined && relay.router.hostFor('api') !== undefined);
  const webId = await openStream(pair, 1, 'web');
  await openStream({ host: api, connector: pair.connector }, 3, 'api');
  pair.connector.send(encodeData(1, Buffer.alloc(10)));
  await pair.host.nextOf(FrameType.DATA, webId);
  const m = await scrape(relay);
  assert.equal(sample(m, 'tether_tunnel_streams_opened_total', { tunnel: 'web' }), 1);
  assert.equal(sample(m, 'tether_tunnel_streams_opened_total', { tunnel: '_other' }), 1);
  assert.equal(sample(m, 'tether_tunnel_stream_bytes_total', { tunnel: 'web', direction: 'up' }), 10);
  assert.equal(sample(m, 'tether_metrics_series_dropped_total', { metric: 'tether_tunnel_streams_opened_total' }), 1);
});

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-metrics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: TestContext, metricsPort: number): Promise<RunningRelay> {
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: false, dataDir: join(tempDir(t), 'data'), metricsPort });
  t.after(() => relay.app.close());
  return relay;
}

test('--metrics-port: GET /metrics without a token on its own listener, nothing else there, closed with the app', HANG_GUARD, async (t) => {
  const relay = await start(t, 0);
  assert.match(relay.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(relay.metricsUrl!);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(parseExposition(await res.text()), 'tether_streams_opened_total'), 0);
  const other = await fetch(relay.metricsUrl!.replace('/metrics', '/v1/users'));
  assert.equal(other.status, 404);
  assert.equal((await other.json() as { code: string }).code, ErrorCode.NOT_FOUND);
  const main = await fetch(`${relay.url}/metrics`);
  assert.equal(main.status, 401, 'the main port still wants the admin token');
  await relay.app.close();
  await assert.rejects(fetch(relay.metricsUrl!), 'the listener is closed with the app');
});

test('--metrics-port in use: ADDRESS_IN_USE, and the relay does not start', HANG_GUARD, async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  await assert.rejects(startRelay({ host: '127.0.0.1', port: 0, logger: false, dataDir: join(tempDir(t), 'data'), metricsPort: port }), { code: ErrorCode.ADDRESS_IN_USE });
});
