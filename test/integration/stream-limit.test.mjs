// A relay whose per-stream buffer limit is below the window a client's stream would grow to: bulk
// data still flows both ways, intact, because clients keep their windows within the limit the
// relay names at the upgrade (tether-max-window).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Defaults, MuxDuplex } from '@tether/shared';
import { expectedDigest, hashUntilEnd, keystream, MiB, startStack, startTarget, writeBytes } from './harness.mjs';

const LIMIT = 2 * MiB;
const UP = 48 * MiB + 5;
const DOWN = 48 * MiB + 11;

let target;
let stack;
let landed;

before(async () => {
  target = await startTarget((socket) => {
    landed = hashUntilEnd(socket, 'target socket');
    // Once the upload is in, answer with the download.
    void landed.then(() => writeBytes(socket, keystream('down'), DOWN, { chunkSize: 256 * 1024, what: 'target socket' }), () => undefined);
  });
  stack = await startStack({ targetPort: target.port, limits: { maxBufferedBytesPerStream: LIMIT } });
});

after(async () => {
  await stack?.close();
  await target?.close();
});

test('a stream whose window outgrows the relay\'s per-stream limit carries bulk data both ways intact', { timeout: 120_000 }, async () => {
  assert.ok(Defaults.maxWindow > LIMIT, 'the clients\' windows may grow past the relay\'s limit');
  const duplex = new MuxDuplex(await stack.connector.open(stack.tunnel));
  const closedWith = new Promise((resolve) => duplex.stream.once('close', resolve));
  const reply = hashUntilEnd(duplex, 'client stream');
  const sent = await writeBytes(duplex, keystream('up'), UP, { chunkSize: 256 * 1024, what: 'client stream' });
  const got = await landed;
  assert.equal(got.bytes, UP, `the target received ${got.bytes} of ${UP} bytes`);
  assert.equal(got.sha256, sent);
  const back = await reply;
  assert.equal(back.bytes, DOWN, `the client received ${back.bytes} of ${DOWN} bytes`);
  assert.equal(back.sha256, expectedDigest('down', DOWN));
  assert.equal(await closedWith, undefined, 'the stream closed with an error');
});
