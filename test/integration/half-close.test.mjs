// Half-close through the whole path, both ways, with more data after the FIN than one window
// holds (so credit must keep flowing on a half-closed stream).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MuxDuplex } from '@tether/shared';
import {
  connectTcp,
  expectedDigest,
  hashUntilEnd,
  keystream,
  listenThrough,
  MiB,
  rendezvous,
  startStack,
  startTarget,
  writeBytes,
} from './harness.mjs';

const REQUEST = 3 * MiB + 17;
const REPLY = 5 * MiB + 3;
const GREETING = 1000;

// The first byte picks the behaviour, so one target serves every case.
//  'R' (reply after end): read until the client ends, then send REPLY bytes and end.
//  'F' (first to finish): send GREETING bytes and end at once, then read until the client ends.
//  'A' (abort): hand the socket to the test, which resets one side or the other.
/** Connection id → what the target received on it (a promise of { bytes, sha256 }). */
const landed = rendezvous();
/** Connection id → the target's socket, for the abort cases. */
const sockets = rendezvous();
let target;
let stack;
let port;
let caseNo = 0;

before(async () => {
  target = await startTarget((socket) => {
    socket.once('data', (first) => {
      const mode = String.fromCharCode(first[0]);
      const id = first[1];
      if (mode === 'A') {
        sockets.set(id, socket);
        return;
      }
      const upload = hashUntilEnd(socket, `target socket ${id}`, first.subarray(2));
      landed.set(id, upload);
      if (mode === 'R') {
        void upload.then(() => writeBytes(socket, keystream(`reply-${id}`), REPLY), () => undefined);
      } else {
        void writeBytes(socket, keystream(`greeting-${id}`), GREETING);
      }
    });
  });
  stack = await startStack({ targetPort: target.port });
  port = await listenThrough(stack);
});

after(async () => {
  await stack?.close();
  await target?.close();
});

/** The client side of a case, as a TCP socket through the connector's listener or as a stream. */
const clients = {
  'TCP through connector.listen': () => connectTcp(port),
  'MuxDuplex over connector.open': async () => new MuxDuplex(await stack.connector.open(stack.tunnel)),
};

for (const [via, connect] of Object.entries(clients)) {
  test(`client ends first, target replies afterwards and the client gets all of it (${via})`, { timeout: 60_000 }, async () => {
    const id = ++caseNo;
    const client = await connect();
    client.on('error', () => undefined); // surfaced by hashUntilEnd
    const reply = hashUntilEnd(client, 'client');
    client.write(Buffer.from([0x52 /* R */, id]));
    const sent = await writeBytes(client, keystream(`request-${id}`), REQUEST);
    const got = await landed.get(id);
    assert.equal(got.bytes, REQUEST, `target received ${got.bytes} of ${REQUEST} request bytes`);
    assert.equal(got.sha256, sent);
    const back = await reply;
    assert.equal(back.bytes, REPLY, `client received ${back.bytes} of ${REPLY} reply bytes after its own end`);
    assert.equal(back.sha256, expectedDigest(`reply-${id}`, REPLY));
  });

  test(`target ends first, client keeps sending and the target gets all of it (${via})`, { timeout: 60_000 }, async () => {
    const id = ++caseNo;
    const client = await connect();
    client.on('error', () => undefined);
    const greeting = hashUntilEnd(client, 'client');
    client.write(Buffer.from([0x46 /* F */, id]));
    // Wait for the target's FIN before sending the bulk, so every byte travels after it.
    const back = await greeting;
    assert.equal(back.bytes, GREETING);
    assert.equal(back.sha256, expectedDigest(`greeting-${id}`, GREETING));
    const sent = await writeBytes(client, keystream(`late-${id}`), REQUEST);
    const got = await landed.get(id);
    assert.equal(got.bytes, REQUEST, `target received ${got.bytes} of ${REQUEST} bytes sent after its end`);
    assert.equal(got.sha256, sent);
  });
}

// An abort is not an end: a reset on either side must reach the other side as a reset (a TCP
// peer sees ECONNRESET, not a clean end of data), and leave no stream behind anywhere.
const aborts = [
  { name: 'the client resets its connection', abort: ({ client }) => client.resetAndDestroy(), observer: 'target' },
  { name: 'the target resets its connection', abort: ({ server }) => server.resetAndDestroy(), observer: 'client' },
];

for (const { name, abort, observer } of aborts) {
  test(`${name} mid-transfer: the other side sees a reset and no stream is left behind`, { timeout: 60_000 }, async () => {
    const id = ++caseNo;
    const client = await connectTcp(port);
    const clientClosed = closeOf(client);
    client.write(Buffer.from([0x41 /* A */, id]));
    client.write(keystream(`abort-${id}`)(256 * 1024));
    const server = await sockets.get(id);
    const serverClosed = closeOf(server);
    abort({ client, server });
    const seen = await (observer === 'target' ? serverClosed : clientClosed);
    assert.equal(seen, 'ECONNRESET', `the ${observer} saw ${seen} instead of a reset`);
    await (observer === 'target' ? clientClosed : serverClosed);
    const relaySession = await stack.connector.session();
    await untilNoStreams(relaySession.session);
    assert.equal(stack.relay.router.stats().streams, 0, 'routes left on the relay');
    assert.equal(stack.agent.activeStreams, 0, 'streams left on the host agent');
  });
}

/** Resolves with the error code a socket closed with ('clean' when it closed without one). */
function closeOf(socket) {
  return new Promise((resolve) => {
    let code = 'clean';
    socket.on('error', (err) => (code = err.code ?? err.message));
    socket.once('close', () => resolve(code));
  });
}

/** Waits for the last stream of `session` to close (the reset crosses the relay asynchronously). */
async function untilNoStreams(session) {
  for (const stream of session.listStreams()) {
    if (stream.state !== 'closed') await new Promise((resolve) => stream.once('close', resolve));
  }
}
