import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { ADMIN_TOKEN, createTestRelay, createUser, HANG_GUARD, type TestRelay } from '../../test-support/testing.js';
import { startMuxHost } from '../../test-support/mux-host.js';

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string }

function get(port: number, host: string, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An origin answering with what it was sent. */
async function echoOrigin(t: { after: (fn: () => void) => void }): Promise<{ port: number; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.setHeader('connection', 'x-origin-private');
    res.setHeader('x-origin-private', 'hop');
    res.end(JSON.stringify({ path: req.url, method: req.method }));
  });
  server.on('upgrade', (req, socket) => {
    seen.push(req.headers);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, seen };
}

async function ingressRelay(t: Parameters<typeof createTestRelay>[0]): Promise<{ relay: TestRelay; port: number }> {
  const relay = await createTestRelay(t, {}, ':memory:', { publicDomain: 'localhost' });
  await relay.listen();
  return { relay, port: Number(new URL(relay.wsUrl).port) };
}

test('a public tunnel is reached by Host over HTTP/1.1 and h2c; hop-by-hop fields stop at the relay', HANG_GUARD, async (t) => {
  const { relay, port } = await ingressRelay(t);
  const origin = await echoOrigin(t);
  const host = await startMuxHost(relay.wsUrl, ADMIN_TOKEN, 'web', origin.port, { http: 'http1', access: 'public' });
  t.after(() => host.close());
  const answer = await get(port, `web.localhost:${port}`, '/a?b=1', { 'x-forwarded-for': '10.9.9.9', connection: 'x-mine', 'x-mine': '1' });
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), { path: '/a?b=1', method: 'GET' });
  assert.equal(answer.headers['x-origin-private'], undefined, 'a field the origin named in Connection is not passed on');
  const seen = origin.seen.at(-1)!;
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['x-mine'], undefined);
  assert.equal(seen.forwarded, `for=127.0.0.1;proto=http;host="web.localhost:${port}"`);

  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  const stream = client.request({ ':path': '/h2', ':authority': `web.localhost:${port}` });
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => (body += c));
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  await once(stream, 'end');
  assert.equal(headers[':status'], 200);
  assert.deepEqual(JSON.parse(body), { path: '/h2', method: 'GET' });
  // The relay's own routes answer h2 too.
  const health = client.request({ ':path': '/healthz', ':authority': `127.0.0.1:${port}` });
  const [healthHeaders] = (await once(health, 'response')) as [http2.IncomingHttpHeaders];
  health.resume();
  assert.equal(healthHeaders[':status'], 200);
});

test('unknown, non-HTTP and offline tunnels are told apart with codes', HANG_GUARD, async (t) => {
  const { relay, port } = await ingressRelay(t);
  const origin = await echoOrigin(t);
  const plain = await startMuxHost(relay.wsUrl, ADMIN_TOKEN, 'plain', origin.port);
  t.after(() => plain.close());
  const cases: Array<[string, number, string]> = [
    [`nosuch.localhost:${port}`, 404, 'TETHER_ERR_TUNNEL_UNKNOWN'],
    [`a.b.localhost:${port}`, 404, 'TETHER_ERR_TUNNEL_UNKNOWN'],
    [`plain.localhost:${port}`, 404, 'TETHER_ERR_TUNNEL_UNKNOWN'],
  ];
  for (const [host, status, code] of cases) {
    const answer = await get(port, host, '/');
    assert.deepEqual([answer.status, (JSON.parse(answer.body) as { code: string }).code], [status, code], host);
  }
  assert.match((JSON.parse((await get(port, `plain.localhost:${port}`, '/')).body) as { message: string }).message, /not shared over HTTP/);
  // Claimed, then its host leaves: offline.
  const host = await startMuxHost(relay.wsUrl, ADMIN_TOKEN, 'gone', origin.port, { http: 'http1', access: 'public' });
  host.close();
  await waitUntil(async () => (await get(port, `gone.localhost:${port}`, '/')).status === 503);
  const page = await get(port, `gone.localhost:${port}`, '/', { accept: 'text/html' });
  assert.equal(page.headers['x-tether-error'], 'TETHER_ERR_TUNNEL_OFFLINE');
  assert.match(page.body, /<h1>This tunnel is offline<\/h1>/);
});

test('an origin that refuses is a 502; an upgrade is carried as a raw stream', HANG_GUARD, async (t) => {
  const { relay, port } = await ingressRelay(t);
  const origin = await echoOrigin(t);
  const closed = net.createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const dead = (closed.address() as net.AddressInfo).port;
  closed.close();
  const down = await startMuxHost(relay.wsUrl, ADMIN_TOKEN, 'down', dead, { http: 'http1', access: 'public' });
  t.after(() => down.close());
  const refused = await get(port, `down.localhost:${port}`, '/');
  assert.deepEqual([refused.status, (JSON.parse(refused.body) as { code: string }).code], [502, 'TETHER_ERR_TARGET_REFUSED']);

  const up = await startMuxHost(relay.wsUrl, ADMIN_TOKEN, 'up', origin.port, { http: 'http1', access: 'public' });
  t.after(() => up.close());
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(`GET /chat HTTP/1.1\r\nHost: up.localhost:${port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  await waitUntil(() => text.includes('\r\n\r\n'));
  assert.match(text, /^HTTP\/1\.1 101 /);
  socket.write('marco');
  await waitUntil(() => text.endsWith('marco'));
  const upgrade = origin.seen.at(-1)!;
  assert.deepEqual([upgrade.upgrade, upgrade['x-forwarded-for']], ['echo', '127.0.0.1']);
});

test('private tunnels: bearer tokens and sign-in sessions; token tunnels: their access token', HANG_GUARD, async (t) => {
  const { relay, port } = await ingressRelay(t);
  const origin = await echoOrigin(t);
  const alice = await createUser(relay, 'alice');
  const mallory = await createUser(relay, 'mallory');
  const host = await startMuxHost(relay.wsUrl, alice, 'vault', origin.port, { http: 'http1' });
  t.after(() => host.close());
  const at = `vault.localhost:${port}`;
  assert.equal((await get(port, at, '/')).status, 401);
  const redirect = await get(port, at, '/x', { accept: 'text/html' });
  assert.deepEqual([redirect.status, redirect.headers.location], [302, '/.tether/sign-in?next=%2Fx']);
  assert.match((await get(port, at, '/.tether/sign-in?next=/x')).body, /name="next" value="\/x"/);
  assert.equal((await get(port, at, '/', { authorization: `Bearer ${alice}` })).status, 200);
  assert.equal(origin.seen.at(-1)!.authorization, undefined, "the relay's token is not passed on");
  assert.equal((await get(port, at, '/', { authorization: `Bearer ${ADMIN_TOKEN}` })).status, 200, 'the relay admin may');
  assert.equal((await get(port, at, '/', { authorization: `Bearer ${mallory}` })).status, 404, 'a stranger learns nothing');
  // The service's own Authorization (not a relay token) still needs a session, and reaches the origin with one.
  const form = (token: string, next = '/in'): string => `token=${encodeURIComponent(token)}&next=${encodeURIComponent(next)}`;
  const signIn = await get(port, at, '/.tether/sign-in', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form(alice));
  assert.equal(signIn.status, 303);
  const cookie = String(signIn.headers['set-cookie']).split(';')[0];
  const withSession = await get(port, at, '/in', { cookie, authorization: 'Basic c2VydmljZTpvd24=' });
  assert.equal(withSession.status, 200);
  assert.equal(origin.seen.at(-1)!.authorization, 'Basic c2VydmljZTpvd24=');
  assert.equal(origin.seen.at(-1)!.cookie, undefined);
  assert.equal((await get(port, at, '/', { cookie: `${cookie}x` })).status, 401, 'a forged session');
  assert.equal((await get(port, at, '/.tether/sign-in', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form('tth_wrong'))).status, 401);
  assert.equal((await get(port, at, '/.tether/sign-in', {}, 'PUT', '')).status, 400);
  const out = await get(port, at, '/.tether/sign-out');
  assert.match(String(out.headers['set-cookie']), /Max-Age=0/);

  const { createHash } = await import('node:crypto');
  const accessToken = 'an-access-token-long-enough';
  const club = await startMuxHost(relay.wsUrl, alice, 'club', origin.port, { http: 'http1', access: 'token', accessTokenSha256: createHash('sha256').update(accessToken).digest('hex') });
  t.after(() => club.close());
  const clubAt = `club.localhost:${port}`;
  assert.equal((await get(port, clubAt, '/')).status, 401);
  assert.equal((await get(port, clubAt, '/', { 'tether-access-token': 'wrong' })).status, 401);
  assert.equal((await get(port, clubAt, '/', { 'tether-access-token': accessToken })).status, 200);
  const clubSignIn = await get(port, clubAt, '/.tether/sign-in', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form(accessToken, '/'));
  const clubCookie = String(clubSignIn.headers['set-cookie']).split(';')[0];
  assert.equal((await get(port, clubAt, '/', { cookie: clubCookie })).status, 200);
  assert.equal((await get(port, at, '/', { cookie: clubCookie })).status, 401, "one tunnel's session is nothing to another");
});

async function waitUntil(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met');
}

test('an h2c origin: requests multiplexed on one tunnel stream, trailers passed on to an h2 client', HANG_GUARD, async (t) => {
  const { relay, port } = await ingressRelay(t);
  const origin = http2.createServer();
  origin.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'ok' }));
    stream.end(`h2c ${String(headers[':path'])} te=${String(headers.te)}`);
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => origin.close());
  const host = await startMuxHost(relay.wsUrl, ADMIN_TOKEN, 'grpcish', (origin.address() as net.AddressInfo).port, { http: 'h2c', access: 'public' });
  t.after(() => host.close());
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  const ask = async (path: string): Promise<{ body: string; trailers: http2.IncomingHttpHeaders | undefined }> => {
    const stream = client.request({ ':path': path, ':authority': `grpcish.localhost:${port}`, te: 'trailers' });
    let body = '';
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('trailers', (h: http2.IncomingHttpHeaders) => (trailers = h));
    await once(stream, 'end');
    return { body, trailers };
  };
  const answers = await Promise.all([ask('/a'), ask('/b'), ask('/c')]);
  assert.deepEqual(answers.map((a) => a.body), ['h2c /a te=trailers', 'h2c /b te=trailers', 'h2c /c te=trailers']);
  for (const a of answers) assert.equal(a.trailers?.['x-checksum'], 'ok');
  assert.equal(relay.router.stats().streams, 1, 'one tunnel stream carries them all');
});

test('a tunnel that opts in is cached and compressed; a cached answer still needs the right to connect; a purge empties it', HANG_GUARD, async (t) => {
  const { relay, port } = await ingressRelay(t);
  const alice = await createUser(relay, 'alice');
  const mallory = await createUser(relay, 'mallory');
  let hits = 0;
  const origin = http.createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'max-age=60', etag: '"v1"' });
    res.end(`<p>${'cacheable '.repeat(300)}</p>`);
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  const host = await startMuxHost(relay.wsUrl, alice, 'docs', (origin.address() as net.AddressInfo).port, { http: 'http1', cacheBytes: 1024 * 1024, compress: true });
  t.after(() => host.close());
  const at = `docs.localhost:${port}`;
  const asAlice = { authorization: `Bearer ${alice}`, 'accept-encoding': 'gzip' };
  const first = await get(port, at, '/page', asAlice);
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-encoding'], 'gzip');
  assert.match(String(first.headers['cache-status']), /tether; fwd=uri-miss; stored/);
  const second = await get(port, at, '/page', asAlice);
  assert.match(String(second.headers['cache-status']), /tether; hit/);
  assert.equal(hits, 1, 'the second answer came from the cache');
  const stranger = await get(port, at, '/page', { authorization: `Bearer ${mallory}` });
  assert.equal(stranger.status, 404, 'a user without the connect role gets nothing, cached or not');

  const purge = await relay.app.inject({ method: 'DELETE', url: '/v1/tunnels/docs/cache', headers: { authorization: `Bearer ${alice}` } });
  assert.deepEqual(purge.json(), { tunnel: 'docs', purged: 1 });
  const refused = await relay.app.inject({ method: 'DELETE', url: '/v1/tunnels/docs/cache', headers: { authorization: `Bearer ${mallory}` } });
  assert.equal(refused.statusCode, 404);
  await get(port, at, '/page', asAlice);
  assert.equal(hits, 2, 'purged: the origin is asked again');
});
