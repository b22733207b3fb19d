// The HTTP ingress end to end (docs/http.md): a real origin behind `tether share --http`, reached
// at NAME.localhost on the relay's port by curl (HTTP/1.1, h2c with prior knowledge, h2 over
// TLS), a WebSocket client, an SSE reader and Node's HTTP client; bad input refused with codes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { CLI, cleanEnv, createUser, HANG_GUARD, Processes, requirePrograms, run, startRelay, startShare, tempDir, tether, until } from './fixtures.mjs';
import { BLOCK, blocksSha256, startOrigin } from './http-origin.mjs';

/** One request to the relay's port for `host`, through Node's client: status, headers and body. */
function request(port, host, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** Sends raw bytes on a new connection and resolves with everything read until the relay closes it. */
function raw(port, bytes) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    socket.write(bytes);
    setTimeout(() => socket.end(), 1500).unref();
  });
}

const curl = (args) => run('curl', ['-sS', '--max-time', '30', ...args], { env: cleanEnv() });

/** The resident memory of process `pid`, in bytes. */
const rssOf = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

describe('the HTTP ingress', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let relay;
  let port;
  let origin;
  let alice;
  let bob;
  let share;

  before(async () => {
    requirePrograms();
    origin = await startOrigin();
    procs.defer(() => origin.close());
    relay = await startRelay(procs, tmp.path, { args: ['--public-domain', 'localhost'] });
    port = Number(new URL(relay.url).port);
    alice = await createUser(relay, 'alice');
    bob = await createUser(relay, 'bob');
    share = await startShare(procs, { url: relay.url, token: alice, tunnel: 'web', targetPort: origin.port, args: ['--http', '--access', 'public'] });
    assert.equal(await share.waitFor('stderr', /^Reachable at /), `Reachable at http://web.localhost:${port}`);
    await startShare(procs, { url: relay.url, token: alice, tunnel: 'vault', targetPort: origin.port, args: ['--http'] });
  });
  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('curl over HTTP/1.1 and h2c reaches the origin, which learns where the request came from and nothing of the relay', async () => {
    const h1 = await curl(['-H', 'X-Forwarded-For: 6.6.6.6', '-w', '\n%{http_version}', `http://web.localhost:${port}/hello?x=1`]);
    const [body, version] = h1.stdout.split('\n');
    assert.equal(version, '1.1');
    const seen = JSON.parse(body);
    assert.equal(seen.path, '/hello?x=1');
    assert.equal(seen.headers.host, `web.localhost:${port}`);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'a client cannot claim another address');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], `web.localhost:${port}`);
    assert.equal(seen.headers.forwarded, `for=127.0.0.1;proto=http;host="web.localhost:${port}"`);

    const h2 = await curl(['--http2-prior-knowledge', '-w', '\n%{http_version}', '-d', 'abc', `http://web.localhost:${port}/form`]);
    const [body2, version2] = h2.stdout.split('\n');
    assert.equal(version2, '2');
    assert.deepEqual([JSON.parse(body2).method, JSON.parse(body2).bytes], ['POST', 3]);
  });

  test('hop-by-hop fields stop at the relay; the relay API is not reachable through a tunnel host', async () => {
    const r = await request(port, `web.localhost:${port}`, '/v1/users', { headers: { connection: 'x-secret, keep-alive', 'x-secret': '1', 'proxy-authorization': 'Basic eA==', te: 'gzip' } });
    const seen = JSON.parse(r.body);
    assert.equal(seen.path, '/v1/users', 'the origin got it, not the relay');
    for (const name of ['x-secret', 'proxy-authorization', 'te']) assert.equal(seen.headers[name], undefined, name);
  });

  test('a WebSocket echo and server-sent events pass through', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: `web.localhost:${port}` } });
    const messages = [];
    ws.on('message', (data) => messages.push(data.toString()));
    await once(ws, 'open');
    await until(() => messages.length >= 1, 'the greeting');
    assert.deepEqual(JSON.parse(messages[0]), { hello: '127.0.0.1' });
    ws.send('ping through the tunnel');
    await until(() => messages.length >= 2, 'the echo');
    assert.equal(messages[1], 'ping through the tunnel');
    ws.close();

    const sse = await curl(['-N', '-H', 'Accept: text/event-stream', `http://web.localhost:${port}/sse`]);
    assert.equal(sse.stdout, 'id: 0\ndata: tick 0\n\nid: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\n');
  });

  test('1 GiB up and 1 GiB down, with SHA-256 checked', async () => {
    const mib = 1024;
    const up = Readable.from((function* () {
      for (let i = 0; i < mib; i++) yield BLOCK;
    })());
    const upload = await request(port, `web.localhost:${port}`, '/upload', { method: 'PUT', body: up, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(upload.status, 200);
    assert.deepEqual([JSON.parse(upload.body).bytes, JSON.parse(upload.body).sha256], [mib * BLOCK.length, blocksSha256(mib)]);

    const down = await curl(['-o', '/dev/null', '-w', '%{size_download}', `http://web.localhost:${port}/download?mib=${mib}`]);
    assert.equal(Number(down.stdout), mib * BLOCK.length);
    const hashed = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/download?mib=64', headers: { host: `web.localhost:${port}` } }, (res) => {
        const hash = createHash('sha256');
        res.on('data', (c) => hash.update(c));
        res.on('end', () => resolve(hash.digest('hex')));
        res.on('error', reject);
      }).on('error', reject);
    });
    assert.equal(hashed, blocksSha256(64));
  });

  test('a client that does not read holds the relay to bounded memory; a slow origin streams as it goes', async () => {
    const before = rssOf(relay.proc.pid);
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /download?mib=512 HTTP/1.1\r\nHost: web.localhost:${port}\r\n\r\n`);
    socket.pause();
    // The origin writes until the tunnel's credit and the sockets' buffers are full, then waits.
    await new Promise((r) => setTimeout(r, 3000));
    const held = rssOf(relay.proc.pid) - before;
    socket.destroy();
    assert.ok(held < 96 * 1024 * 1024, `the relay grew by ${Math.round(held / 1048576)} MiB for a 512 MiB download nobody reads`);

    const slow = await new Promise((resolve, reject) => {
      const parts = [];
      http.get({ host: '127.0.0.1', port, path: '/slow', headers: { host: `web.localhost:${port}` } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c) => parts.push(c));
        res.on('end', () => resolve(parts));
      }).on('error', reject);
    });
    assert.ok(slow.length >= 2, 'parts arrive as the origin writes them, not in one piece at the end');
    assert.equal(slow.join(''), 'part 0\npart 1\npart 2\npart 3\npart 4\n');
  });

  test('hostile hosts, header floods and smuggling attempts get coded refusals; the relay keeps serving', async () => {
    for (const host of [`nope.localhost:${port}`, `a.web.localhost:${port}`, `-bad-.localhost:${port}`, `${'x'.repeat(70)}.localhost:${port}`]) {
      const r = await request(port, host, '/');
      assert.equal(r.status, 404, host);
      assert.equal(JSON.parse(r.body).code, 'TETHER_ERR_TUNNEL_UNKNOWN', host);
    }
    const flood = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-flood-${i}`, 'y'.repeat(400)]));
    const big = await request(port, `web.localhost:${port}`, '/', { headers: flood });
    assert.equal(big.status, 431);
    assert.equal(JSON.parse(big.body).code, 'TETHER_ERR_INVALID_ARGUMENT');

    const before = origin.hits.get('/smuggled') ?? 0;
    const smuggled = await raw(port, `POST /echo HTTP/1.1\r\nHost: web.localhost:${port}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: web.localhost:${port}\r\n\r\n`);
    assert.match(smuggled, /^HTTP\/1\.1 400 /);
    assert.match(smuggled, /TETHER_ERR_INVALID_ARGUMENT/);
    const doubled = await raw(port, `POST /echo HTTP/1.1\r\nHost: web.localhost:${port}\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`);
    assert.match(doubled, /^HTTP\/1\.1 400 /);
    assert.equal(origin.hits.get('/smuggled') ?? 0, before, 'the smuggled request never reached the origin');
    assert.equal((await request(port, `web.localhost:${port}`, '/still')).status, 200);
  });

  test('private tunnels: a sign-in for browsers, 401 for programs; a member token or the session cookie lets in, and never reaches the origin', async () => {
    const host = `vault.localhost:${port}`;
    const anonymous = await request(port, host, '/');
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.body).code, 'TETHER_ERR_UNAUTHORIZED');
    assert.match(anonymous.headers['www-authenticate'], /^Bearer realm="tether"/);
    const browser = await request(port, host, '/page?a=1', { headers: { accept: 'text/html' } });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.location, '/.tether/sign-in?next=%2Fpage%3Fa%3D1');
    const form = await request(port, host, browser.headers.location, { headers: { accept: 'text/html' } });
    assert.match(form.body, /<form method="post" action="\/\.tether\/sign-in">/);

    // The owner, with her token as a bearer: let in, and the origin never sees it.
    const owner = await request(port, host, '/who', { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(owner.status, 200);
    assert.equal(JSON.parse(owner.body).headers.authorization, undefined);
    // A user with no role on it is told there is no such tunnel, as everywhere else.
    const stranger = await request(port, host, '/who', { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(stranger.status, 404);
    assert.equal(JSON.parse(stranger.body).code, 'TETHER_ERR_TUNNEL_UNKNOWN');

    const wrong = await request(port, host, '/.tether/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=tth_nope&next=%2Fwho' });
    assert.equal(wrong.status, 401);
    const signedIn = await request(port, host, '/.tether/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(alice)}&next=%2Fwho` });
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.location, '/who');
    const cookie = signedIn.headers['set-cookie'][0];
    assert.match(cookie, /^tether_session=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const withCookie = await request(port, host, '/who', { headers: { cookie: `theme=dark; ${cookie.split(';')[0]}` } });
    assert.equal(withCookie.status, 200);
    assert.equal(JSON.parse(withCookie.body).headers.cookie, 'theme=dark', 'the relay cookie is taken out');
    // A session of one tunnel is nothing to another.
    const elsewhere = await request(port, `web.localhost:${port}`, '/who', { headers: { cookie: cookie.split(';')[0] } });
    assert.equal(JSON.parse(elsewhere.body).headers.cookie, undefined);
    // An open redirect is not offered.
    const away = await request(port, host, '/.tether/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(alice)}&next=%2F%2Fevil.example` });
    assert.equal(away.headers.location, '/');
  });

  test('token tunnels take their access token, and only it', async () => {
    const proc = procs.start(process.execPath, [CLI, 'share', 'club', '--target', `127.0.0.1:${origin.port}`, '--http', '--access', 'token'], { env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: alice }) });
    const line = await proc.waitFor('stderr', /^Access token/);
    const token = /: (\S+)$/.exec(line)[1];
    const host = `club.localhost:${port}`;
    assert.equal((await request(port, host, '/')).status, 401);
    assert.equal((await request(port, host, '/', { headers: { 'tether-access-token': 'guessing-is-futile-here' } })).status, 401);
    const ok = await request(port, host, '/in', { headers: { 'tether-access-token': token } });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).headers['tether-access-token'], undefined);
    await procs.stop(proc);
  });

  test('an origin that is down is a 502 with a code; a tunnel whose host left is a clear 503 page', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = closed.address().port;
    closed.close();
    const down = await startShare(procs, { url: relay.url, token: alice, tunnel: 'down', targetPort: deadPort, args: ['--http', '--access', 'public'] });
    const r = await request(port, `down.localhost:${port}`, '/');
    assert.equal(r.status, 502);
    assert.equal(JSON.parse(r.body).code, 'TETHER_ERR_TARGET_REFUSED');
    await procs.stop(down);
    await until(async () => (await request(port, `down.localhost:${port}`, '/')).status === 503, 'the tunnel to be offline');
    const page = await request(port, `down.localhost:${port}`, '/', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 503);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.body, /<h1>This tunnel is offline<\/h1>/);
    assert.match(page.body, /tunnel down is not being shared right now/);
  });

  test('a tunnel shared with --cache answers from the cache; tether tunnel purge empties it', async () => {
    await startShare(procs, { url: relay.url, token: alice, tunnel: 'docs', targetPort: origin.port, args: ['--http', '--access', 'public', '--cache', '1MB'] });
    const first = await request(port, `docs.localhost:${port}`, '/cacheable');
    const second = await request(port, `docs.localhost:${port}`, '/cacheable');
    assert.equal(first.body, second.body);
    assert.match(second.headers['cache-status'], /^tether; hit/);
    const before = origin.hits.get('/cacheable');
    const purge = await tether(['tunnel', 'purge', 'docs'], { relay: relay.url, token: alice });
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(purge.stderr, 'Purged the HTTP cache of tunnel docs: 1 response dropped on this relay, the other nodes told to drop theirs\n');
    const stranger = await tether(['tunnel', 'purge', 'docs'], { relay: relay.url, token: bob });
    assert.match(stranger.stderr, /no tunnel named docs \[TETHER_ERR_TUNNEL_UNKNOWN\]/);
    const third = await request(port, `docs.localhost:${port}`, '/cacheable');
    assert.equal(origin.hits.get('/cacheable'), before + 1, 'purged: the service is asked again');
    assert.match(third.headers['cache-status'], /stored/);
  });

  test('the relay still serves its own API and WebSocket clients on the same port', async () => {
    const health = await curl([`${relay.url}/healthz`]);
    assert.equal(JSON.parse(health.stdout).status, 'ok');
    const list = await tether(['tunnels'], { relay: relay.url, token: alice });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /\bweb\b/);
    assert.ok(share.child.exitCode === null);
  });
});

describe('the HTTP ingress over TLS', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('h2 and HTTP/1.1 by ALPN; the relay itself over https and wss', async () => {
    requirePrograms();
    const cert = join(tmp.path, 'cert.pem');
    const key = join(tmp.path, 'key.pem');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,DNS:web.localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { env: cleanEnv() });
    assert.equal(made.code, 0, made.stderr);
    const origin = await startOrigin();
    procs.defer(() => origin.close());
    const relay = await startRelay(procs, tmp.path, { args: ['--public-domain', 'localhost', '--tls-cert', cert, '--tls-key', key] });
    assert.match(relay.url, /^https:\/\//);
    const port = Number(new URL(relay.url).port);
    const alice = await createUser(relay, 'alice').catch(async () => {
      const r = await run(process.execPath, [CLI, 'user', 'create', 'alice'], { env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: relay.adminToken, NODE_EXTRA_CA_CERTS: cert }) });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    });
    const proc = procs.start(process.execPath, [CLI, 'share', 'web', '--target', `127.0.0.1:${origin.port}`, '--http', '--access', 'public'], { env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: alice, NODE_EXTRA_CA_CERTS: cert }) });
    await proc.waitFor('stderr', /^Sharing /);
    const h2 = await curl(['--cacert', cert, '--http2', '-w', '\n%{http_version}', `https://web.localhost:${port}/tls`]);
    const [body, version] = h2.stdout.split('\n');
    assert.equal(version, '2', h2.stderr);
    assert.equal(JSON.parse(body).headers['x-forwarded-proto'], 'https');
    const h1 = await curl(['--cacert', cert, '--http1.1', '-w', '\n%{http_version}', `https://web.localhost:${port}/tls`]);
    assert.equal(h1.stdout.split('\n')[1], '1.1');
    const health = await curl(['--cacert', cert, `https://localhost:${port}/healthz`]);
    assert.equal(JSON.parse(health.stdout).status, 'ok');
    writeFileSync(join(tmp.path, 'done'), 'ok');
  });
});
