// 100 streams at once through connector → relay → host agent → TCP target, each carrying a
// random amount of data (seeded) both ways at the same time. The upload is hashed where it
// lands (the target), the download where it lands (the client).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  connectTcp,
  expectedDigest,
  hashUntilEnd,
  keystream,
  listenThrough,
  MiB,
  KiB,
  prng,
  startStack,
  startTarget,
  writeBytes,
} from './harness.mjs';

const SEED = 0x7e7e4e;
const STREAMS = 100;
const HEADER = 8; // u32 stream index, u32 bytes the target must send back

/**
 * Sizes from 0 B to 4 MiB, mostly small (cubed uniform), plus the edges that matter to the
 * framing: empty, one byte, one frame, one frame ± 1, and the largest.
 */
function drawSizes() {
  const random = prng(SEED);
  const edges = [0, 1, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 1 * MiB, 4 * MiB];
  const pick = (i) => (i < edges.length ? edges[i] : Math.floor(4 * MiB * random() ** 3));
  return Array.from({ length: STREAMS }, (_, i) => ({ up: pick(i), down: pick((i + 3) % STREAMS) }));
}

/** Per connection: read the header, send `down` bytes back while hashing the upload. */
function exchangeTarget(results) {
  return (socket) => {
    // A reset that comes once both directions are done (a socket torn down at the end) must not
    // surface after the test as an unhandled error: failures during the exchange surface through
    // hashUntilEnd/writeBytes.
    socket.on('error', () => undefined);
    let header = Buffer.alloc(0);
    socket.on('data', function onHeader(chunk) {
      header = Buffer.concat([header, chunk]);
      if (header.length < HEADER) return;
      socket.off('data', onHeader);
      const index = header.readUInt32BE(0);
      const down = header.readUInt32BE(4);
      const upload = hashUntilEnd(socket, `target socket ${index}`, header.subarray(HEADER));
      const download = writeBytes(socket, keystream(`down-${SEED}-${index}`), down, { what: `target socket ${index}` });
      results.set(index, Promise.all([upload, download]).then(([up]) => up));
    });
  };
}

let target;
let stack;
const results = new Map();

before(async () => {
  target = await startTarget(exchangeTarget(results));
  stack = await startStack({ targetPort: target.port });
});

after(async () => {
  await stack?.close();
  await target?.close();
});

test('100 parallel streams of random sizes arrive intact both ways (SHA-256 at each receiving end)', { timeout: 120_000 }, async (t) => {
  const sizes = drawSizes();
  const port = await listenThrough(stack);
  const started = performance.now();

  const outcomes = await Promise.allSettled(sizes.map(async ({ up, down }, index) => {
    const socket = await connectTcp(port);
    socket.on('error', () => undefined); // surfaced by hashUntilEnd/writeBytes
    const header = Buffer.alloc(HEADER);
    header.writeUInt32BE(index, 0);
    header.writeUInt32BE(down, 4);
    socket.write(header);
    const received = hashUntilEnd(socket, `client socket ${index}`);
    const sent = await writeBytes(socket, keystream(`up-${SEED}-${index}`), up, { what: `client socket ${index}` });
    const got = await received;
    // The target registers its result when the header arrives, which precedes the client's end.
    const landed = await results.get(index);
    return { index, up, down, sent, got, landed };
  }));

  const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`stream ${i}: ${o.reason?.code ?? ''} ${o.reason?.message}`] : []));
  assert.deepEqual(failures, [], `${failures.length} of ${STREAMS} streams failed`);

  let mismatches = 0;
  let total = 0;
  for (const { value } of outcomes) {
    const { index, up, down, sent, got, landed } = value;
    total += up + down;
    const downExpected = expectedDigest(`down-${SEED}-${index}`, down);
    if (landed.bytes !== up || landed.sha256 !== sent || got.bytes !== down || got.sha256 !== downExpected) {
      mismatches++;
      t.diagnostic(`stream ${index}: up ${landed.bytes}/${up} bytes, hash ${landed.sha256 === sent ? 'ok' : 'MISMATCH'}; down ${got.bytes}/${down} bytes, hash ${got.sha256 === downExpected ? 'ok' : 'MISMATCH'}`);
    }
  }
  assert.equal(mismatches, 0, `${mismatches} of ${STREAMS} streams delivered wrong bytes`);
  assert.equal(results.size, STREAMS, `target saw ${results.size} of ${STREAMS} streams`);
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${STREAMS} streams, ${(total / MiB).toFixed(1)} MiB both ways in ${seconds.toFixed(2)} s (${(total / MiB / seconds).toFixed(0)} MiB/s)`);
  assert.equal(stack.agent.streamsServed, STREAMS);
  // Nothing is left over once every stream's last frames have crossed. A resumable stream ends
  // when both of its ends are acknowledged; only then does each end send its attachment's FIN,
  // so the last of those may still be on its way through the relay when both sockets are done.
  const connectorSession = (await stack.connector.session()).session;
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && (stack.relay.router.stats().streams > 0 || stack.agent.activeStreams > 0 || connectorSession.streamCount > 0)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(stack.relay.router.stats().streams, 0, 'routes left on the relay');
  assert.equal(stack.agent.activeStreams, 0, 'streams left on the host agent');
  assert.equal(connectorSession.streamCount, 0, 'streams left on the connector');
});
