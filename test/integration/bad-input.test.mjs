// Bad input from other clients, while a long healthy transfer runs on the same relay and the
// same tunnel: every bad client gets its coded error, the transfer arrives intact, and the relay
// still opens new streams afterwards.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import {
  decodeFrames,
  Defaults,
  encodeData,
  encodeOpen,
  encodePing,
  encodeWindow,
  ErrorCode,
  FrameType,
  HEADER_SIZE,
  SUBPROTOCOL,
  WireCode,
  writeHeader,
} from '@tether/shared';
import { HostAgent } from '@tether/extension';
import {
  connectTcp,
  hashUntilEnd,
  keystream,
  listenThrough,
  KiB,
  MiB,
  sha256,
  startStack,
  startTarget,
  waitDrain,
  writeBytes,
} from './harness.mjs';

const HEALTHY_MIN = 64 * MiB;

let target;
let stack;

before(async () => {
  // Echo: whatever comes in goes back out; the end follows the client's end.
  target = await startTarget((socket) => socket.pipe(socket));
  stack = await startStack({ targetPort: target.port, users: ['alice', 'bob'] });
});

after(async () => {
  await stack?.close();
  await target?.close();
});

// --- raw WebSocket clients -------------------------------------------------------------------

/**
 * Opens a raw WebSocket to `path`. Resolves { ws, frames } once upgraded (frames collects every
 * decoded frame the relay sends), or { status, body } when the relay refuses the upgrade.
 * `token: null` sends no Authorization header at all.
 */
function rawConnect(path, { token = stack.tokens.alice, protocols = [SUBPROTOCOL] } = {}) {
  const headers = token === null ? {} : { authorization: `Bearer ${token}` };
  const ws = new WebSocket(`${stack.wsUrl}${path}`, protocols, { headers, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (c) => (text += c));
      response.on('end', () => {
        ws.terminate();
        resolve({ status: response.statusCode, body: JSON.parse(text) });
      });
    });
    ws.on('error', (err) => {
      if (ws.readyState === WebSocket.CONNECTING) reject(err);
    });
    ws.once('open', () => {
      const frames = [];
      ws.on('message', (data) => decodeFrames(data, Defaults, (frame) => frames.push(frame)));
      const closed = once(ws, 'close').then(([code, reason]) => ({ code, reason: reason.toString() }));
      resolve({ ws, frames, closed });
    });
  });
}

/** Waits until `frames` holds one that `match` accepts (the relay's answers come asynchronously). */
async function frameMatching(client, match, what) {
  for (;;) {
    const found = client.frames.find(match);
    if (found) return found;
    const outcome = await Promise.race([once(client.ws, 'message').then(() => 'message'), client.closed]);
    if (outcome !== 'message') throw new Error(`link closed (${outcome.code} ${outcome.reason}) while waiting for ${what}`);
  }
}

/** The link is still serving: a PING gets its PONG. */
async function assertStillOpen(client) {
  const data = Buffer.from('stillok!');
  client.ws.send(encodePing(data));
  await frameMatching(client, (f) => f.type === FrameType.PONG && f.data.equals(data), 'PONG');
}

function header(type, flags, streamId, length) {
  const buf = Buffer.alloc(HEADER_SIZE);
  writeHeader(buf, 0, type, flags, streamId, length);
  return buf;
}

// --- the healthy transfer ----------------------------------------------------------------------

/**
 * Echoes at least HEALTHY_MIN bytes through a TCP client on the connector's listener, and keeps
 * sending until stop() is called, so it is certainly running while every bad case happens.
 */
function startHealthyTransfer(port) {
  let stopping = false;
  let sentBytes = 0;
  const done = (async () => {
    const socket = await connectTcp(port);
    socket.on('error', () => undefined); // surfaces as a short echo
    const echoed = hashUntilEnd(socket, 'healthy client');
    const hash = sha256();
    const next = keystream('healthy');
    while (sentBytes < HEALTHY_MIN || !stopping) {
      const chunk = next(64 * KiB);
      hash.update(chunk);
      sentBytes += chunk.length;
      if (!socket.write(chunk)) await waitDrain(socket, 'healthy client');
    }
    socket.end();
    return { sent: sentBytes, sha256: hash.digest('hex'), echoed: await echoed };
  })();
  return {
    done,
    get sentBytes() {
      return sentBytes;
    },
    stop() {
      stopping = true;
    },
  };
}

// --- the cases ----------------------------------------------------------------------------

/** Messages that end the sending link, with the close code and reason each must get. */
const closingCases = [
  { name: 'garbage bytes (unknown frame type)', send: () => Buffer.concat([header(0xee, 0, 1, 4), Buffer.from('junk')]), code: 1002, reason: ErrorCode.UNKNOWN_FRAME_TYPE },
  { name: 'garbage bytes (HTTP text sent as binary)', send: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), code: 1009, reason: ErrorCode.FRAME_TOO_LARGE },
  { name: 'a text message', send: () => 'hello', code: 1003, reason: ErrorCode.PROTOCOL_ERROR },
  { name: 'an empty message', send: () => Buffer.alloc(0), code: 1002, reason: ErrorCode.FRAME_TRUNCATED },
  { name: 'a truncated header', send: () => header(FrameType.DATA, 0, 1, 10).subarray(0, 5), code: 1002, reason: ErrorCode.FRAME_TRUNCATED },
  { name: 'a truncated frame', send: () => Buffer.concat([header(FrameType.DATA, 0, 1, 100), Buffer.alloc(10)]), code: 1002, reason: ErrorCode.FRAME_TRUNCATED },
  { name: 'an oversized frame (beyond maxFrameSize)', send: () => Buffer.concat([header(FrameType.DATA, 0, 1, Defaults.maxFrameSize + 1), Buffer.alloc(Defaults.maxFrameSize + 1)]), code: 1009, reason: ErrorCode.FRAME_TOO_LARGE },
  { name: 'an invalid frame (WINDOW increment 0)', send: () => encodeWindowZero(), code: 1002, reason: ErrorCode.FRAME_INVALID },
  { name: 'an OPEN with an even (relay-side) stream id', send: () => encodeOpen(2, 64 * KiB, 'it-tunnel'), code: 1002, reason: ErrorCode.PROTOCOL_ERROR },
  // ws enforces maxMessageSize itself, before any frame is decoded; its reason is its own.
  { name: 'a message beyond maxMessageSize', send: () => Buffer.alloc(Defaults.maxMessageSize + 1), code: 1009 },
];

function encodeWindowZero() {
  const frame = encodeWindow(1, 1);
  frame.writeUInt32BE(0, HEADER_SIZE);
  return frame;
}

/** Handshakes the relay must refuse before upgrading, with the HTTP status and code of each. */
const refusedCases = [
  { name: 'a wrong subprotocol', path: '/v1/connect', options: { protocols: ['tether.v0'] }, status: 400, code: ErrorCode.UNSUPPORTED_VERSION },
  { name: 'no subprotocol', path: '/v1/connect', options: { protocols: [] }, status: 400, code: ErrorCode.UNSUPPORTED_VERSION },
  { name: 'a bad token', path: '/v1/connect', options: { token: 'not-a-token' }, status: 401, code: ErrorCode.UNAUTHORIZED },
  { name: 'a missing token', path: '/v1/connect', options: { token: null }, status: 401, code: ErrorCode.UNAUTHORIZED },
  { name: 'a bad token on the host endpoint', path: '/v1/host?tunnel=it-tunnel', options: { token: 'x'.repeat(40) }, status: 401, code: ErrorCode.UNAUTHORIZED },
  { name: 'an invalid tunnel name', path: '/v1/host?tunnel=Not%20Valid!', options: {}, status: 400, code: ErrorCode.INVALID_TUNNEL_NAME },
  { name: 'hosting a tunnel that is already shared', path: '/v1/host?tunnel=it-tunnel', options: {}, status: 409, code: ErrorCode.TUNNEL_IN_USE },
  { name: "hosting another user's tunnel", path: '/v1/host?tunnel=it-tunnel', options: { token: 'bob' }, status: 403, code: ErrorCode.TUNNEL_FORBIDDEN },
];

test('bad input gets coded errors while a healthy transfer runs intact, and the relay still serves', { timeout: 120_000 }, async (t) => {
  const port = await listenThrough(stack);
  const healthy = startHealthyTransfer(port);
  const healthyFailed = healthy.done.then(() => undefined, (err) => err);
  // Let it get going first, so the bad input lands in the middle of it.
  while (healthy.sentBytes < 8 * MiB) await sleep(10);
  const atStart = healthy.sentBytes;
  let atEnd;

  try {
    await t.test('frames that end the link get their close code and reason', async () => {
      const outcomes = await Promise.all(closingCases.map(async (c) => {
        const client = await rawConnect('/v1/connect');
        client.ws.on('error', () => undefined); // ws reports a peer's 1009 as an error too
        const message = c.send();
        client.ws.send(message, { binary: typeof message !== 'string' });
        const { code, reason } = await client.closed;
        return { name: c.name, code, reason: c.reason === undefined ? undefined : reason };
      }));
      assert.deepEqual(outcomes, closingCases.map((c) => ({ name: c.name, code: c.code, reason: c.reason })));
    });

    await t.test('handshakes that are refused before the upgrade get their HTTP status and code', async () => {
      const outcomes = await Promise.all(refusedCases.map(async (c) => {
        const options = { ...c.options };
        if (options.token === 'bob') options.token = stack.tokens.bob;
        const result = await rawConnect(c.path, options);
        if (result.ws) result.ws.terminate();
        return { name: c.name, status: result.status, code: result.body?.code };
      }));
      assert.deepEqual(outcomes, refusedCases.map((c) => ({ name: c.name, status: c.status, code: c.code })));
    });

    await t.test('DATA for an unknown stream is answered with RESET UNKNOWN_STREAM and the link stays open', async () => {
      const client = await rawConnect('/v1/connect');
      client.ws.send(encodeData(999, Buffer.from('who is there?')));
      const reset = await frameMatching(client, (f) => f.type === FrameType.RESET && f.streamId === 999, 'RESET');
      assert.equal(reset.code, WireCode.UNKNOWN_STREAM);
      await assertStillOpen(client);
      client.ws.close();
    });

    await t.test('DATA beyond the granted credit resets that stream with FLOW_CONTROL and the link stays open', async () => {
      const client = await rawConnect('/v1/connect');
      client.ws.send(encodeOpen(1, 64 * KiB, stack.tunnel));
      const ok = await frameMatching(client, (f) => f.streamId === 1 && f.type !== FrameType.DATA && f.type !== FrameType.WINDOW, 'OPEN_OK');
      assert.equal(ok.type, FrameType.OPEN_OK, `expected OPEN_OK, got frame type ${ok.type}`);
      // Spend the whole window in frames of at most maxFrameSize, then one byte more.
      for (let left = ok.window; left > 0; left -= Defaults.maxFrameSize) {
        client.ws.send(encodeData(1, Buffer.alloc(Math.min(left, Defaults.maxFrameSize))));
      }
      client.ws.send(encodeData(1, Buffer.from('!')));
      const reset = await frameMatching(client, (f) => f.type === FrameType.RESET && f.streamId === 1, 'RESET');
      assert.equal(reset.code, WireCode.FLOW_CONTROL);
      await assertStillOpen(client);
      client.ws.close();
    });

    await t.test("another user's connector cannot open the tunnel, nor learn it exists: TUNNEL_UNKNOWN", async () => {
      const bob = stack.newConnector('bob');
      await assert.rejects(bob.open(stack.tunnel), (err) => err.code === ErrorCode.TUNNEL_UNKNOWN);
      await assert.rejects(bob.open('no-such-tunnel'), (err) => err.code === ErrorCode.TUNNEL_UNKNOWN);
    });

    await t.test("another user's host agent cannot share the tunnel: TUNNEL_FORBIDDEN", async () => {
      const intruder = new HostAgent({ tunnel: stack.tunnel, target: { host: '127.0.0.1', port: target.port }, factory: stack.factoryFor('bob'), reconnect: false });
      await assert.rejects(intruder.start(), (err) => err.code === ErrorCode.TUNNEL_FORBIDDEN);
      await intruder.stop(0);
    });
  } finally {
    atEnd = healthy.sentBytes;
    healthy.stop();
  }

  const transferError = await healthyFailed;
  assert.equal(transferError, undefined, `the healthy transfer failed: ${transferError?.code ?? ''} ${transferError?.message}`);
  const result = await healthy.done;
  t.diagnostic(`healthy transfer: ${(result.sent / MiB).toFixed(1)} MiB echoed in all; ${(atStart / MiB).toFixed(1)} MiB sent before the bad input began, ${(atEnd / MiB).toFixed(1)} MiB when it was over`);
  assert.ok(result.sent >= HEALTHY_MIN);
  assert.equal(result.echoed.bytes, result.sent, `echoed ${result.echoed.bytes} of ${result.sent} bytes`);
  assert.equal(result.echoed.sha256, result.sha256, 'the echoed bytes differ from the ones sent');

  // The relay still accepts new streams, on the old session and on a new one.
  for (const connector of [stack.connector, stack.newConnector('alice')]) {
    const socket = await connectTcp(await listenThrough(stack, connector));
    const echoed = hashUntilEnd(socket, 'fresh client');
    const sent = await writeBytes(socket, keystream('after'), 300 * KiB);
    assert.equal((await echoed).sha256, sent);
  }
});
