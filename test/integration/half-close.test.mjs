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
/** Connection id → what the target received on it (a promise of { bytes, sha256 }). */
const landed = rendezvous();
let target;
let stack;
let port;
let caseNo = 0;

before(async () => {
  target = await startTarget((socket) => {
    socket.once('data', (first) => {
      const mode = String.fromCharCode(first[0]);
      const id = first[1];
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
