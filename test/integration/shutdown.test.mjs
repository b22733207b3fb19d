// Graceful relay shutdown with a stream mid-transfer: GOAWAY reaches the connector, new streams
// are refused with GOING_AWAY, the running transfer finishes intact, then the relay closes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MuxDuplex } from '@tether/shared';
import { Connector, HostAgent } from '@tether/extension';
import { hashUntilEnd, keystream, MiB, sha256, startStack, startTarget, waitDrain } from './harness.mjs';

const HALF = 8 * MiB;

let target;
let stack;

before(async () => {
  target = await startTarget((socket) => socket.pipe(socket)); // echo
  stack = await startStack({ targetPort: target.port });
});

after(async () => {
  await stack?.close();
  await target?.close();
});

/** Writes `size` bytes of `next` into `hash` and `writable`, honouring backpressure. */
async function send(writable, next, size, hash) {
  for (let left = size; left > 0;) {
    const chunk = next(Math.min(left, 64 * 1024));
    hash.update(chunk);
    left -= chunk.length;
    if (!writable.write(chunk)) await waitDrain(writable, 'client stream');
  }
}

test('relay.shutdown() mid-transfer: GOAWAY, new opens refused, the transfer completes intact, then the relay closes', { timeout: 90_000 }, async (t) => {
  const { connector, tunnel, relay } = stack;
  const relaySession = await connector.session();
  const stream = await connector.open(tunnel);
  const duplex = new MuxDuplex(stream);
  duplex.on('error', () => undefined); // a failure shows up in the counts below
  const streamClosed = once(stream, 'close');
  let echoed = 0;
  duplex.on('data', (chunk) => (echoed += chunk.length));
  const echo = hashUntilEnd(duplex, 'client stream');
  const hash = sha256();
  const next = keystream('shutdown');

  // First half, and wait until a good part of it has come back: the stream is mid-transfer.
  await send(duplex, next, HALF, hash);
  while (echoed < HALF / 2) await sleep(10);

  const goaway = once(relaySession.session, 'goaway');
  const shutdown = relay.shutdown();
  let shutdownDone = false;
  void shutdown.then(() => (shutdownDone = true), () => undefined);
  const [lastStreamId, goawayError] = await goaway;
  assert.equal(goawayError.code, ErrorCode.GOING_AWAY);
  // With one relay there is nowhere to move the (resumable) stream: it finishes on this one.
  const muxId = stream.attachment.id;
  assert.ok(lastStreamId >= muxId, `GOAWAY's last stream id ${lastStreamId} must cover the running stream ${muxId}`);

  // New streams are refused: on the draining session with GOING_AWAY, and so is a new
  // connector's first connection; the running connector has no other relay, so it queues new
  // opens and gives up with NO_RELAY after its queue timeout (10 s by default: not waited for here).
  assert.throws(() => relaySession.session.openStream(tunnel), (err) => err.code === ErrorCode.GOING_AWAY);
  await assert.rejects(new Connector(stack.factoryFor('alice')).open(tunnel), (err) => err.code === ErrorCode.GOING_AWAY);
  const lateHost = new HostAgent({ tunnel: 'late-host', target: { host: '127.0.0.1', port: target.port }, factory: stack.factoryFor('alice'), reconnect: false });
  await assert.rejects(lateHost.start(), (err) => err.code === ErrorCode.GOING_AWAY);
  const ready = await fetch(`${stack.url}/readyz`);
  assert.equal(ready.status, 503, '/readyz must report not ready while draining');
  assert.equal(shutdownDone, false, 'the relay finished shutting down while a stream was still open');

  // Second half, then end: everything must come back.
  await send(duplex, next, HALF, hash);
  duplex.end();
  const got = await echo;
  assert.equal(got.bytes, 2 * HALF, `echoed ${got.bytes} of ${2 * HALF} bytes across the shutdown`);
  assert.equal(got.sha256, hash.digest('hex'));
  const [streamError] = await streamClosed;
  assert.equal(streamError, undefined, `the stream closed with ${streamError?.code}`);

  // With no streams left the relay closes: the session ends with GOING_AWAY and nobody listens.
  await shutdown;
  const sessionError = await relaySession.closed;
  assert.equal(sessionError?.code, ErrorCode.GOING_AWAY);
  await assert.rejects(fetch(`${stack.url}/healthz`), (err) => err.cause?.code === 'ECONNREFUSED');
  t.diagnostic(`stream ${stream.id} carried ${(2 * HALF / MiB).toFixed(0)} MiB each way across the shutdown`);
});
