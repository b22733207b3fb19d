// 1 GiB through one stream, generated on the fly (never held in memory), hashed at both ends.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { MuxDuplex } from '@tether/shared';
import { GiB, hashUntilEnd, KiB, MiB, sha256, startStack, startTarget, waitDrain } from './harness.mjs';

const TOTAL = 1 * GiB;
const CHUNK = 256 * KiB;

let target;
let stack;
let landed;

before(async () => {
  target = await startTarget((socket) => {
    landed = hashUntilEnd(socket, 'target socket');
    // The client sends no reply request: close our side once theirs has ended.
    void landed.then(() => socket.end(), () => undefined);
  });
  stack = await startStack({ targetPort: target.port });
});

after(async () => {
  await stack?.close();
  await target?.close();
});

test('1 GiB through one stream arrives intact (SHA-256 at both ends)', { timeout: 300_000 }, async (t) => {
  // Every chunk is a slice of one random block at a moving offset, stamped with its index, so
  // a lost, repeated or reordered chunk changes the hash; nothing near 1 GiB is ever allocated.
  const block = randomBytes(4 * MiB);
  const duplex = new MuxDuplex(await stack.connector.open(stack.tunnel));
  const closedWith = new Promise((resolve) => duplex.stream.once('close', resolve));
  const reply = hashUntilEnd(duplex, 'client stream');
  const hash = sha256();
  const started = performance.now();
  for (let i = 0, sent = 0; sent < TOTAL; i++) {
    const n = Math.min(CHUNK, TOTAL - sent);
    const chunk = Buffer.allocUnsafe(n);
    block.copy(chunk, 0, (i * 4099) % (block.length - CHUNK), (i * 4099) % (block.length - CHUNK) + n);
    chunk.writeUInt32BE(i, 0);
    hash.update(chunk);
    sent += n;
    if (!duplex.write(chunk)) await waitDrain(duplex, 'client stream');
  }
  duplex.end();
  const sent = hash.digest('hex');
  const got = await landed;
  const seconds = (performance.now() - started) / 1000;
  const back = await reply;
  assert.equal(await closedWith, undefined, 'the stream closed with an error');

  t.diagnostic(`1 GiB in ${seconds.toFixed(2)} s: ${(TOTAL / MiB / seconds).toFixed(0)} MiB/s (one process runs client, relay, host agent and target)`);
  assert.equal(got.bytes, TOTAL, `target received ${got.bytes} of ${TOTAL} bytes`);
  assert.equal(got.sha256, sent, 'SHA-256 at the target differs from the one at the client');
  assert.equal(back.bytes, 0, 'the target sent nothing back');
});
