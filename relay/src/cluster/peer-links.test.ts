/**
 * Peer links over real sockets: relay apps on one real redis-server, listening on 127.0.0.1
 * port 0. The `/v1/peer` refusals over real HTTP, PeerLinks dialling real nodes (and ports that
 * refuse or never answer), and one stream carried from a connector on one node to a host on
 * another. The router's cross-node logic on in-process pipes is in routing/cross-node.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import WebSocket from 'ws';
import { encodeData, encodeWindow, ErrorCode, FrameType, SUBPROTOCOL, TetherError } from '@tether/shared';
import { buildApp } from '../app.js';
import type { RelayOptions } from '../config.js';
import { freePort, startRedis } from '../test-support/redis-server.js';
import { ADMIN_TOKEN, bearer, createUser, HANG_GUARD, openLink, openStream, upgradeRefusal, waitFor, type TestRelay } from '../test-support/testing.js';
import { peerAuthHeaders } from './peer-auth.js';
import { PEER_PATH, PeerLinks, type PeerLinksOptions } from './peer-links.js';

const SECRET = 'cluster-secret-for-tests-01';
let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

let nextId = 0;

/** A relay node on the test Redis, listening on 127.0.0.1 port 0, closed after the test. */
async function node(t: TestContext, extra: Partial<RelayOptions> = {}): Promise<TestRelay & { upgrades: () => number }> {
  const relay = await buildApp({ adminToken: ADMIN_TOKEN, logger: false, redis: { url: redis!.server.url }, clusterSecret: SECRET, nodeId: `peer-test-${++nextId}`, heartbeat: { intervalMs: 100, ttlMs: 1000 }, ...extra });
  const clients = new Set<WebSocket>();
  let upgrades = 0;
  const testRelay = {
    ...relay,
    wsUrl: '',
    clients,
    upgrades: () => upgrades,
    async listen() {
      testRelay.wsUrl = (await relay.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
      return testRelay.wsUrl;
    },
  };
  t.after(async () => {
    for (const ws of clients) ws.terminate();
    await relay.app.close();
  });
  await testRelay.listen();
  // Every WebSocket this node accepted, on any path ('connection' fires as the 101 is written).
  relay.app.websocketServer.on('connection', () => upgrades++);
  return testRelay;
}

const httpUrl = (relay: TestRelay): string => relay.wsUrl.replace(/^ws/, 'http');

/** The node still answers HTTP and still accepts a valid peer link. */
async function stillServes(t: TestContext, relay: TestRelay): Promise<void> {
  const res = await fetch(`${httpUrl(relay)}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  if (relay.router.draining) return;
  const ws = await peerSocket(relay, peerAuthHeaders(SECRET, 'some-peer', relay.nodeId));
  t.after(() => ws.terminate());
  assert.equal(ws.protocol, SUBPROTOCOL);
}

/** A raw peer WebSocket to `relay` with the given headers, resolved once open. */
function peerSocket(relay: TestRelay, headers: Record<string, string>): Promise<WebSocket> {
  const ws = new WebSocket(`${relay.wsUrl}${PEER_PATH}`, SUBPROTOCOL, { headers });
  relay.clients.add(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`peer upgrade refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Expects the `/v1/peer` upgrade with `headers` to be refused with `status` and `code`; returns the message. */
async function refused(relay: TestRelay, headers: Record<string, string>, status: number, code: string): Promise<string> {
  const { status: got, body } = await upgradeRefusal(relay, PEER_PATH, headers, [SUBPROTOCOL]);
  assert.equal(got, status, JSON.stringify(body));
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message']);
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  return body.message;
}

const silent = pino({ level: 'silent' });

/** PeerLinks dialling from `from`'s router; `resolve` defaults to the cluster's node registry. */
function peerLinks(from: TestRelay, options: Partial<PeerLinksOptions> = {}): PeerLinks & { resolved: string[] } {
  const resolved: string[] = [];
  const resolve = options.resolve ?? (async (id: string) => (await from.nodes!.list()).find((n) => n.id === id)?.advertise || undefined);
  const links = new PeerLinks({
    selfId: from.nodeId,
    secret: SECRET,
    router: from.router,
    maxMessageSize: from.limits.maxMessageSize,
    log: silent,
    ...options,
    resolve: (id) => {
      resolved.push(id);
      return resolve(id);
    },
  });
  return Object.assign(links, { resolved });
}

/** The coded error `promise` rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<TetherError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TetherError, `not a coded error: ${String(err)}`);
    return err;
  }
  assert.fail('resolved, expected a refusal');
}

// ---------------------------------------------------------------------------------------------
// 1. /v1/peer refusals over real HTTP

test('/v1/peer without peer headers is refused 401 UNAUTHORIZED; the node keeps serving', HANG_GUARD, async (t) => {
  const b = await node(t);
  assert.match(await refused(b, {}, 401, ErrorCode.UNAUTHORIZED), /needs the x-tether-node and x-tether-peer-auth headers/);
  await stillServes(t, b);
});

test('/v1/peer with a proof under another secret is refused 401 naming the caller; the node keeps serving', HANG_GUARD, async (t) => {
  const b = await node(t);
  const message = await refused(b, peerAuthHeaders('another-secret-0123456789', 'node-x', b.nodeId), 401, ErrorCode.UNAUTHORIZED);
  assert.match(message, /node node-x does not hold this cluster's secret/);
  await stillServes(t, b);
});

test('/v1/peer with a proof made for another node id is refused 401; the node keeps serving', HANG_GUARD, async (t) => {
  const b = await node(t);
  assert.match(await refused(b, peerAuthHeaders(SECRET, 'node-x', 'some-other-node'), 401, ErrorCode.UNAUTHORIZED), /does not hold this cluster's secret \(or meant another node\)/);
  await stillServes(t, b);
});

test('/v1/peer with a proof more than 60 s old (or ahead) is refused 401 with the skew; the node keeps serving', HANG_GUARD, async (t) => {
  const b = await node(t);
  assert.match(await refused(b, peerAuthHeaders(SECRET, 'node-x', b.nodeId, Date.now() - 61_000), 401, ErrorCode.UNAUTHORIZED), /peer proof of node node-x is 6\d s off this node's clock/);
  assert.match(await refused(b, peerAuthHeaders(SECRET, 'node-x', b.nodeId, Date.now() + 120_000), 401, ErrorCode.UNAUTHORIZED), /is -1[12]\d s off/);
  await stillServes(t, b);
});

test('/v1/peer from a caller claiming the receiving node\'s own id is refused 401 saying so; the node keeps serving', HANG_GUARD, async (t) => {
  const b = await node(t);
  const message = await refused(b, peerAuthHeaders(SECRET, b.nodeId, b.nodeId), 401, ErrorCode.UNAUTHORIZED);
  assert.match(message, new RegExp(`a peer link from a node with this node's own id \\(${b.nodeId}\\): every node needs its own --node-id`));
  await stillServes(t, b);
});

test('a user token, even the admin token, does not open a peer link (401 UNAUTHORIZED); the node keeps serving', HANG_GUARD, async (t) => {
  const b = await node(t);
  const token = await createUser(b, 'paula');
  for (const bearerToken of [token, ADMIN_TOKEN]) {
    assert.match(await refused(b, bearer(bearerToken), 401, ErrorCode.UNAUTHORIZED), /only relay nodes open peer links/);
  }
  // A valid bearer next to a bad proof is no better.
  assert.match(await refused(b, { ...bearer(ADMIN_TOKEN), ...peerAuthHeaders('another-secret-0123456789', 'node-x', b.nodeId) }, 401, ErrorCode.UNAUTHORIZED), /does not hold/);
  await stillServes(t, b);
});

test('/v1/peer on a draining node is refused 503 GOING_AWAY, even with a valid proof; the node keeps answering HTTP', HANG_GUARD, async (t) => {
  const b = await node(t);
  await b.router.drain();
  assert.match(await refused(b, peerAuthHeaders(SECRET, 'node-x', b.nodeId), 503, ErrorCode.GOING_AWAY), /shutting down/);
  // A bad proof is still refused as such (authentication comes first).
  await refused(b, peerAuthHeaders('another-secret-0123456789', 'node-x', b.nodeId), 401, ErrorCode.UNAUTHORIZED);
  await stillServes(t, b);
});

// ---------------------------------------------------------------------------------------------
// 2. PeerLinks against real nodes

test('linkTo opens one peer link; a second call returns the same link; concurrent calls share one dial', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  const c = await node(t);
  const metrics = new MemoryMetrics();
  const links = peerLinks(a, { metrics });
  assert.equal(links.has(b.nodeId), false);
  const first = await links.linkTo(b.nodeId);
  assert.equal(first.closed, false);
  assert.equal(first.role.name, 'peer');
  assert.equal(links.has(b.nodeId), true);
  assert.equal(links.count(), 1);
  assert.equal(b.upgrades(), 1);
  await waitFor(() => b.router.linkCount() === 1);
  assert.equal(await links.linkTo(b.nodeId), first);
  assert.equal(b.upgrades(), 1);

  const all = await Promise.all(Array.from({ length: 20 }, () => links.linkTo(c.nodeId)));
  assert.ok(all.every((link) => link === all[0]), 'concurrent linkTo calls resolved to different links');
  assert.notEqual(all[0], first);
  assert.equal(c.upgrades(), 1);
  assert.deepEqual(links.resolved, [b.nodeId, c.nodeId]);
  assert.equal(links.count(), 2);
  assert.equal(metrics.value('tether_peer_dials_total', { outcome: 'opened' }), 2, 'one dial per node, however many calls');
});

test('a node id not among the live nodes fails RELAY_UNREACHABLE saying so', HANG_GUARD, async (t) => {
  const a = await node(t);
  const err = await failure(peerLinks(a).linkTo('no-such-node'));
  assert.equal(err.code, ErrorCode.RELAY_UNREACHABLE);
  assert.match(err.message, /relay node no-such-node is not among the live nodes of the cluster/);
});

test('a node whose port refuses fails RELAY_UNREACHABLE naming the URL; within retryAfterMs it fails at once without dialling', HANG_GUARD, async (t) => {
  const a = await node(t);
  const url = `http://127.0.0.1:${await freePort()}`;
  const metrics = new MemoryMetrics();
  const links = peerLinks(a, { resolve: async () => url, retryAfterMs: 60_000, metrics });
  const err = await failure(links.linkTo('node-dead'));
  assert.equal(err.code, ErrorCode.RELAY_UNREACHABLE);
  assert.ok(err.message.startsWith(`relay node node-dead at ${url}: `), err.message);
  assert.match(err.message, /ECONNREFUSED/);
  const started = Date.now();
  const again = await failure(links.linkTo('node-dead'));
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  assert.equal(again.code, ErrorCode.RELAY_UNREACHABLE);
  assert.equal(again.message, err.message);
  assert.deepEqual(links.resolved, ['node-dead'], 'dialled again within retryAfterMs');
  assert.equal(metrics.value('tether_peer_dials_total', { outcome: 'failed' }), 1, 'the failure cache answers without a dial');
});

test('once retryAfterMs has passed, a failed node is dialled again (and a success clears the failure)', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  let target = `http://127.0.0.1:${await freePort()}`;
  const links = peerLinks(a, { resolve: async () => target, retryAfterMs: 50 });
  assert.equal((await failure(links.linkTo(b.nodeId))).code, ErrorCode.RELAY_UNREACHABLE);
  await new Promise((resolve) => setTimeout(resolve, 100));
  target = httpUrl(b);
  const link = await links.linkTo(b.nodeId);
  assert.equal(link.closed, false);
  assert.equal(links.resolved.length, 2);
  assert.equal(b.upgrades(), 1);
});

test('a target that accepts TCP but never answers the handshake fails within dialTimeoutMs', HANG_GUARD, async (t) => {
  const a = await node(t);
  const sockets = new Set<Socket>();
  let released = 0;
  const mute = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => released++);
    socket.resume();
  });
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => mute.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(mute.address() as { port: number }).port}`;
  const links = peerLinks(a, { resolve: async () => url, dialTimeoutMs: 200 });
  const started = Date.now();
  const err = await failure(links.linkTo('node-mute'));
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  assert.equal(err.code, ErrorCode.RELAY_UNREACHABLE);
  assert.ok(err.message.startsWith(`relay node node-mute at ${url}: `), err.message);
  assert.match(err.message, /handshake has timed out/);
  assert.equal(sockets.size, 1);
  // The dialler does not leave its half-open socket behind.
  await waitFor(() => released === 1);
});

test('a node with another cluster secret: the other node\'s refusal is in the error', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  const err = await failure(peerLinks(a, { secret: 'not-the-cluster-secret-0001' }).linkTo(b.nodeId));
  assert.equal(err.code, ErrorCode.RELAY_UNREACHABLE);
  assert.match(err.message, new RegExp(`relay node ${b.nodeId} at ${httpUrl(b)}: refused the peer link: node ${a.nodeId} does not hold this cluster's secret.*\\[TETHER_ERR_UNAUTHORIZED\\]`));
  assert.equal(b.upgrades(), 0);
  assert.equal(b.router.linkCount(), 0);
});

test('after a peer link\'s socket closes, the next linkTo dials again', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  const links = peerLinks(a);
  const first = await links.linkTo(b.nodeId);
  // The far end drops the link.
  for (const ws of b.app.websocketServer.clients) ws.terminate();
  await waitFor(() => first.closed);
  assert.equal(links.has(b.nodeId), false);
  assert.equal(links.count(), 0);
  const second = await links.linkTo(b.nodeId);
  assert.notEqual(second, first);
  assert.equal(second.closed, false);
  assert.equal(b.upgrades(), 2);
  assert.equal(links.resolved.length, 2);
});

test('a peer link told GOAWAY (its node drains) is not reused: the next linkTo dials again', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  const links = peerLinks(a);
  const first = await links.linkTo(b.nodeId);
  // What the router does when a GOAWAY arrives on the link.
  first.goingAway = true;
  assert.equal(links.has(b.nodeId), false);
  const second = await links.linkTo(b.nodeId);
  assert.notEqual(second, first);
  assert.equal(second.goingAway, false);
  assert.equal(b.upgrades(), 2);
});

test('after close(), dials fail with GOING_AWAY (every time) and nothing is dialled', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  const links = peerLinks(a);
  links.close();
  for (let i = 0; i < 2; i++) {
    const err = await failure(links.linkTo(b.nodeId));
    assert.equal(err.code, ErrorCode.GOING_AWAY, `attempt ${i + 1}: ${err.code} ${err.message}`);
    assert.match(err.message, /shutting down/);
  }
  assert.deepEqual(links.resolved, []);
  assert.equal(b.upgrades(), 0);
});

test('a node does not dial itself', HANG_GUARD, async (t) => {
  const a = await node(t);
  const links = peerLinks(a);
  const err = await failure(links.linkTo(a.nodeId));
  assert.equal(err.code, ErrorCode.INTERNAL);
  assert.match(err.message, /does not open a peer link to itself/);
  assert.deepEqual(links.resolved, []);
});

// ---------------------------------------------------------------------------------------------
// 3. A stream across two nodes

test('a connector on node B opens a stream to a host on node A: bytes both ways intact, one peer link', HANG_GUARD, async (t) => {
  const a = await node(t);
  const b = await node(t);
  const token = await createUser(a, 'alice');
  const host = await openLink(a, '/v1/host?tunnel=web', token);
  host.autoPong = true;
  await waitFor(() => a.router.hostFor('web') !== undefined);
  const connector = await openLink(b, '/v1/connect', token);
  connector.autoPong = true;
  const pair = { host, connector };
  const onHost = await openStream(pair, 1, 'web');
  assert.equal(a.upgrades(), 2, 'a: the host link and one peer link');

  const up = Buffer.alloc(200_000);
  for (let i = 0; i < up.length; i++) up[i] = (i * 31 + 7) & 0xff;
  const down = Buffer.from(up).reverse();
  const receive = async (client: typeof host, id: number, length: number): Promise<Buffer> => {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const frame = await client.nextOf(FrameType.DATA, id);
      parts.push(Buffer.from(frame.payload));
      got += frame.payload.length;
      client.send(encodeWindow(id, frame.payload.length));
    }
    return Buffer.concat(parts);
  };
  // Both windows are 64 KiB: send in 16 KiB chunks, each side returning credit as it reads.
  const send = async (client: typeof host, id: number, data: Buffer, windowOf: () => number): Promise<void> => {
    for (let off = 0; off < data.length; off += 16_384) {
      const chunk = data.subarray(off, off + 16_384);
      while (windowOf() < chunk.length) await new Promise((resolve) => setTimeout(resolve, 5));
      credit.set(client, windowOf() - chunk.length);
      client.send(encodeData(id, chunk));
    }
  };
  const credit = new Map<typeof host, number>([[connector, 65_536], [host, 65_536]]);
  const grants = (client: typeof host, id: number): void => {
    void (async () => {
      for (;;) {
        const w = await client.nextOf(FrameType.WINDOW, id).catch(() => undefined);
        if (!w) return;
        credit.set(client, credit.get(client)! + w.increment);
      }
    })();
  };
  grants(connector, 1);
  grants(host, onHost);
  const [gotUp, gotDown] = await Promise.all([
    receive(host, onHost, up.length),
    receive(connector, 1, down.length),
    send(connector, 1, up, () => credit.get(connector)!),
    send(host, onHost, down, () => credit.get(host)!),
  ]);
  assert.ok(gotUp.equals(up), 'bytes from the connector arrived changed');
  assert.ok(gotDown.equals(down), 'bytes from the host arrived changed');
  // A second stream shares the peer link.
  await openStream(pair, 3, 'web');
  assert.equal(a.upgrades(), 2);
});
