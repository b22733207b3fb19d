import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isTetherError, type ErrorCodeString } from '@tether/shared';
import { errorFromBody, RelayApi } from './relay-api.js';

describe('errorFromBody', () => {
  const asked = { url: 'http://127.0.0.1:8080', request: 'GET /v1/tunnels' };
  const cases: [status: number, body: string, code: ErrorCodeString][] = [
    [401, '{"code":"TETHER_ERR_UNAUTHORIZED","message":"bad token"}', ErrorCode.UNAUTHORIZED],
    [403, '{"code":"TETHER_ERR_TUNNEL_FORBIDDEN","message":"not yours"}', ErrorCode.TUNNEL_FORBIDDEN],
    [409, '{"code":"TETHER_ERR_TUNNEL_IN_USE"}', ErrorCode.TUNNEL_IN_USE],
    // The relay's own code wins over what the status alone would suggest.
    [401, '{"code":"TETHER_ERR_TUNNEL_UNKNOWN","message":"x"}', ErrorCode.TUNNEL_UNKNOWN],
    [401, 'Unauthorized', ErrorCode.UNAUTHORIZED],
    [401, '', ErrorCode.UNAUTHORIZED],
    [500, '<html>Internal Server Error</html>', ErrorCode.RELAY_REJECTED],
    [502, '', ErrorCode.RELAY_REJECTED],
    [404, '{"code":"E_NOT_OURS","message":"x"}', ErrorCode.RELAY_REJECTED],
    [400, '{"code":42}', ErrorCode.RELAY_REJECTED],
    [500, 'null', ErrorCode.RELAY_REJECTED],
    [500, '[1,2]', ErrorCode.RELAY_REJECTED],
  ];
  for (const [status, body, code] of cases) {
    test(`HTTP ${status} ${JSON.stringify(body.slice(0, 40))} → ${code}`, () => {
      assert.equal(errorFromBody(status, body, asked).code, code);
    });
  }

  test('keeps the relay message, or falls back to the code', () => {
    assert.equal(errorFromBody(403, '{"code":"TETHER_ERR_TUNNEL_FORBIDDEN","message":"not yours"}', asked).message, 'not yours');
    assert.equal(errorFromBody(409, '{"code":"TETHER_ERR_TUNNEL_IN_USE"}', asked).message, 'TETHER_ERR_TUNNEL_IN_USE');
  });

  test('an answer without a Tether error is from something that is not a relay', () => {
    assert.equal(errorFromBody(404, 'Not Found', asked).message, 'http://127.0.0.1:8080 is not a Tether relay (it answered HTTP 404 Not Found to GET /v1/tunnels); check the relay URL');
  });
});

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A stand-in relay: answers by `METHOD path`, records every request. */
function fakeRelay(routes: Record<string, (req: Seen) => [status: number, body: string, type?: string]>): {
  server: http.Server;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(request);
      const route = routes[`${request.method} ${request.url}`];
      if (!route) {
        // Hold the request open: the client's timeout has to end it.
        return;
      }
      const [status, body, type] = route(request);
      res.writeHead(status, { 'content-type': type ?? 'application/json' });
      res.end(body);
    });
  });
  return { server, seen };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('RelayApi', () => {
  const tunnel = { name: 'box', owner: 'alice', online: true, createdAt: '2026-01-01T00:00:00.000Z', lastHostedAt: null };
  const { server, seen } = fakeRelay({
    'GET /v1/whoami': () => [200, JSON.stringify({ name: 'alice', admin: false })],
    'GET /v1/tunnels': () => [200, JSON.stringify({ tunnels: [tunnel] })],
    'GET /v1/tunnels/box': () => [200, JSON.stringify(tunnel)],
    'GET /v1/tunnels/theirs': () => [403, JSON.stringify({ code: ErrorCode.TUNNEL_FORBIDDEN, message: 'tunnel theirs belongs to another user' })],
    'GET /v1/tunnels/a%2Fb': () => [404, JSON.stringify({ code: ErrorCode.TUNNEL_UNKNOWN, message: 'no tunnel' })],
    'GET /v1/users': () => [500, '<html><body>Internal Server Error</body></html>', 'text/html'],
    'POST /v1/users': (req) => [200, JSON.stringify({ name: (JSON.parse(req.body) as { name: string }).name, token: 'tok-1', createdAt: 'now' })],
    'POST /v1/users/bob/token': () => [200, JSON.stringify({ name: 'bob', token: 'tok-2' })],
    'DELETE /v1/users/bob': () => [204, ''],
    'GET /v1/html': () => [200, '<html>a web server, not a relay</html>', 'text/html'],
    'POST /v1/requests/req_1/approve': () => [200, '{"id":"req_1"}'],
    'POST /v1/requests/req_1/deny': () => [200, '{"id":"req_1"}'],
    'GET /v1/requests?pending=true': () => [200, '{"requests":[]}'],
    'GET /v1/requests': () => [200, '{"requests":[{"id":"req_1"}]}'],
    'PUT /v1/tunnels/a%20b/members/bob/block': () => [200, '{"blocked":true}'],
    'DELETE /v1/tunnels/box/members/bob/block': () => [200, '{"blocked":false}'],
    'DELETE /v1/invites/inv_1': () => [204, ''],
    'POST /v1/invites/accept': () => [200, '{"tunnel":"box","role":"view","granted":{},"request":null}'],
  });
  let base = '';

  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('sends the token as a bearer and parses JSON answers', async () => {
    const api = new RelayApi(`${base}/`, 'secret-token');
    assert.equal(api.base, base);
    assert.deepEqual(await api.whoami(), { name: 'alice', admin: false });
    assert.equal(seen.at(-1)?.authorization, 'Bearer secret-token');
    assert.equal(seen.at(-1)?.contentType, undefined);
    assert.deepEqual(await api.tunnels(), [tunnel]);
    assert.deepEqual(await api.tunnel('box'), tunnel);
  });

  test('posts JSON bodies and reads empty answers', async () => {
    const api = new RelayApi(base, 'admin');
    assert.deepEqual(await api.createUser('carol'), { name: 'carol', token: 'tok-1', createdAt: 'now' });
    const post = seen.at(-1);
    assert.equal(post?.contentType, 'application/json');
    assert.deepEqual(JSON.parse(post?.body ?? ''), { name: 'carol' });
    assert.deepEqual(await api.rotateUserToken('bob'), { name: 'bob', token: 'tok-2' });
    assert.equal(await api.deleteUser('bob'), undefined);
    assert.equal(seen.at(-1)?.method, 'DELETE');
  });

  test('sharing: a review sends {} without a reason, the reason with one', async () => {
    const api = new RelayApi(base, 't');
    await api.reviewRequest('req_1', 'approve');
    assert.deepEqual([seen.at(-1)?.body, seen.at(-1)?.contentType], ['{}', 'application/json']);
    await api.reviewRequest('req_1', 'deny', 'no');
    assert.equal(seen.at(-1)?.body, '{"reason":"no"}');
  });

  test('sharing: paths, methods and query as the relay routes them', async () => {
    const api = new RelayApi(base, 't');
    assert.deepEqual(await api.accessRequests(true), []);
    assert.deepEqual(await api.accessRequests(), [{ id: 'req_1' }]);
    assert.deepEqual(await api.blockMember('a b', 'bob', true), { blocked: true });
    assert.deepEqual(await api.blockMember('box', 'bob', false), { blocked: false });
    assert.equal(await api.revokeInvite('inv_1'), undefined);
    assert.equal((await api.acceptInvite('  a.b.c\n')).tunnel, 'box');
    assert.equal(seen.at(-1)?.body, '{"code":"a.b.c"}');
  });

  test('encodes names in paths', async () => {
    await assert.rejects(new RelayApi(base, 't').tunnel('a/b'), (err) => isTetherError(err, ErrorCode.TUNNEL_UNKNOWN));
    assert.equal(seen.at(-1)?.url, '/v1/tunnels/a%2Fb');
  });

  const failures: [what: string, call: (api: RelayApi) => Promise<unknown>, code: ErrorCodeString, message: (base: string) => string][] = [
    ['a coded JSON error', (api) => api.tunnel('theirs'), ErrorCode.TUNNEL_FORBIDDEN, () => 'tunnel theirs belongs to another user'],
    [
      'a non-JSON 500',
      (api) => api.users(),
      ErrorCode.RELAY_REJECTED,
      (b) => `${b} answered GET /v1/users with HTTP 500 Internal Server Error and no Tether error: it is not a Tether relay, or a proxy in front of the relay cannot reach it; check the relay URL and that the relay is running`,
    ],
    [
      'a 200 that is not JSON',
      (api) => api.request('GET', '/v1/html'),
      ErrorCode.RELAY_REJECTED,
      (b) => `${b} is not a Tether relay (it answered GET /v1/html with an HTML page that is not JSON); check the relay URL`,
    ],
  ];
  for (const [what, call, code, message] of failures) {
    test(`${what} → ${code}`, async () => {
      await assert.rejects(call(new RelayApi(base, 't')), (err) => isTetherError(err, code) && err.message === message(base));
    });
  }

  test('connection refused → RELAY_UNREACHABLE', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const api = new RelayApi(url, 't');
    await assert.rejects(api.whoami(), (err) => isTetherError(err, ErrorCode.RELAY_UNREACHABLE) && err.message === `nothing listens at ${url} (connection refused); check that the relay is running and the relay URL`);
  });

  test('no answer within the timeout → RELAY_UNREACHABLE', async () => {
    const api = new RelayApi(base, 't', 50);
    await assert.rejects(
      api.request('GET', '/v1/never-answers'),
      (err) => isTetherError(err, ErrorCode.RELAY_UNREACHABLE) && err.message === `${base} did not answer within 0.1 s; check the relay URL, and that the relay is running`,
    );
  });

  test('a user name that breaks the rule is refused before anything is sent', async () => {
    const before = seen.length;
    const api = new RelayApi(base, 'admin');
    await assert.rejects(
      api.createUser('a'.repeat(300)),
      (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT) && err.message === "user name is too long (300 characters; at most 63 of a-z, 0-9 and '-')",
    );
    await assert.rejects(api.rotateUserToken('Bob'), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
    await assert.rejects(api.deleteUser(''), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
    assert.equal(seen.length, before);
  });

  test('an invalid relay URL is refused up front', () => {
    assert.throws(() => new RelayApi('ftp://relay', 't'), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
  });
});
