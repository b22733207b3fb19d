import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, decodeFrames, encodeData, encodeGoAway, encodeOpen, encodePing, encodePong, ErrorCode, FrameType, WireCode } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, hostAndConnector, openLink, openStream, waitFor } from '../test-support/testing.js';

test('a host that disconnects: open streams get RESET PEER_GONE, pending ones OPEN_ERR TUNNEL_OFFLINE', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  await openStream(pair, 1);
  pair.connector.send(encodeOpen(3, 4096, 'web'));
  await pair.host.nextOf(FrameType.OPEN);
  pair.host.ws.terminate();
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 1)).code, WireCode.PEER_GONE);
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_OFFLINE);
  assert.deepEqual([relay.router.stats().streams, relay.router.stats().hosts], [0, 0]);
  pair.connector.send(encodeOpen(5, 4096, 'web'));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 5)).code, WireCode.TUNNEL_OFFLINE);
});

test('a connector that disconnects: the host gets RESET PEER_GONE for each of its streams', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const a = await openStream(pair, 1);
  const b = await openStream(pair, 3);
  pair.connector.close();
  const resets = [await pair.host.nextOf(FrameType.RESET), await pair.host.nextOf(FrameType.RESET)];
  assert.deepEqual(resets.map((r) => [r.streamId, r.code]).sort(), [[a, WireCode.PEER_GONE], [b, WireCode.PEER_GONE]]);
  await waitFor(() => relay.router.stats().connectors === 0);
  assert.equal(relay.router.stats().streams, 0);
});

test('GOAWAY from a host takes its tunnel offline for new streams while open ones continue', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1);
  pair.host.send(encodeGoAway(0, WireCode.GOING_AWAY, 'host restarting'));
  await pair.host.sync();
  assert.equal(relay.router.hostFor('web'), undefined);
  pair.connector.send(encodeOpen(3, 4096, 'web'));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_OFFLINE);
  pair.connector.send(encodeData(1, Buffer.from('still here')));
  assert.equal((await pair.host.nextOf(FrameType.DATA, hostId)).payload.toString(), 'still here');
  // The replacement host can register while the old one finishes.
  const replacement = await openLink(relay, '/v1/host?tunnel=web', pair.token);
  pair.connector.send(encodeOpen(5, 4096, 'web'));
  assert.equal((await replacement.nextOf(FrameType.OPEN)).streamId, 2);
});

test('GOAWAY from a connector makes the relay refuse its new streams with GOING_AWAY', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeGoAway(0, WireCode.NO_ERROR, ''), encodeOpen(1, 4096, 'web'));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.GOING_AWAY);
});

test('shutdown(): GOAWAY everywhere, new streams refused, /readyz 503, close once streams finish', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { drainTimeoutMs: 60_000 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1);
  const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 200);

  let finished = false;
  const done = relay.shutdown().then(() => {
    finished = true;
  });
  assert.equal(relay.shutdown(), relay.shutdown(), 'shutdown is idempotent');
  const toConnector = await pair.connector.nextOf(FrameType.GOAWAY);
  assert.deepEqual([toConnector.code, toConnector.lastStreamId], [WireCode.GOING_AWAY, 1]);
  assert.equal((await pair.host.nextOf(FrameType.GOAWAY)).code, WireCode.GOING_AWAY);

  pair.connector.send(encodeOpen(3, 4096, 'web'));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.GOING_AWAY);
  const draining = await relay.app.inject({ method: 'GET', url: '/readyz', headers: bearer(ADMIN_TOKEN) });
  assert.equal(draining.statusCode, 503);
  assert.equal(draining.json<{ draining: boolean; streams: number }>().draining, true);
  assert.equal(draining.json<{ streams: number }>().streams, 1);

  // The open stream keeps flowing until both sides finish it.
  pair.connector.send(encodeData(1, Buffer.from('last words'), true));
  assert.equal((await pair.host.nextOf(FrameType.DATA, hostId)).payload.toString(), 'last words');
  assert.equal(finished, false, 'the relay must wait for the open stream');
  pair.host.send(encodeData(hostId, Buffer.from('bye'), true));
  assert.equal((await pair.connector.nextOf(FrameType.DATA, 1)).fin, true);

  await done;
  assert.deepEqual(await pair.connector.closed, { code: CloseCode.GOING_AWAY, reason: ErrorCode.GOING_AWAY });
  assert.deepEqual(await pair.host.closed, { code: CloseCode.GOING_AWAY, reason: ErrorCode.GOING_AWAY });
  assert.equal(relay.app.server.listening, false);
});

test('shutdown() closes streams still open when drainTimeoutMs runs out', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { drainTimeoutMs: 100 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  await openStream(pair, 1);
  await relay.shutdown();
  assert.equal((await pair.connector.closed).code, CloseCode.GOING_AWAY);
  assert.equal((await pair.host.closed).code, CloseCode.GOING_AWAY);
  assert.equal(relay.router.stats().streams, 0);
});

test('a link that stays silent past idleTimeoutMs is closed with 4002; one answering PINGs stays', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { pingIntervalMs: 25, idleTimeoutMs: 400 });
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const lively = await openLink(relay, '/v1/host?tunnel=web', token);
  lively.autoPong = true;
  const silent = await openLink(relay, '/v1/connect', token);
  await silent.nextOf(FrameType.PING);
  assert.deepEqual(await silent.closed, { code: CloseCode.IDLE_TIMEOUT, reason: ErrorCode.TIMEOUT });
  assert.equal(lively.ws.readyState, lively.ws.OPEN);
  assert.equal(relay.router.stats().hosts, 1);
});

test("the relay pings a link that talks on its own only every few intervals (its RTT), a quiet one every interval", HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { pingIntervalMs: 20, idleTimeoutMs: 5000 });
  await relay.listen();
  const token = await createUser(relay, 'alice');
  const quiet = await openLink(relay, '/v1/host?tunnel=web', token);
  const chatty = await openLink(relay, '/v1/connect', token);
  // Both answer the relay's PINGs and count them; the chatty one also pings the relay every 4 ms,
  // as a share's pool does (every 1.5 s when idle) against the relay's 5 s.
  const pings = new Map([[quiet, 0], [chatty, 0]]);
  for (const link of [quiet, chatty]) {
    link.ws.on('message', (data: Buffer) => {
      decodeFrames(data, { maxFrameSize: 0xffffffff }, (frame) => {
        if (frame.type !== FrameType.PING) return;
        pings.set(link, pings.get(link)! + 1);
        link.send(encodePong(frame.data));
      });
    });
  }
  const talker = setInterval(() => chatty.send(encodePing(Buffer.alloc(8))), 4);
  t.after(() => clearInterval(talker));
  await new Promise((r) => setTimeout(r, 600));
  clearInterval(talker);
  const [q, c] = [pings.get(quiet)!, pings.get(chatty)!];
  assert.ok(c >= 1, `the chatty link got its first PING (RTT measured): ${c}`);
  assert.ok(c * 2 < q, `the chatty link got far fewer PINGs (${c}) than the quiet one (${q})`);
  assert.equal(quiet.ws.readyState, quiet.ws.OPEN);
  assert.equal(chatty.ws.readyState, chatty.ws.OPEN);
});
