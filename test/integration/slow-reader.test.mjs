// A reader that stops reading must stop the writer at the far end: the bytes in flight stay
// within the stream windows and the buffers of each hop, not whatever the writer can produce.
// Then the reader resumes and every byte arrives intact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Defaults, MuxDuplex } from '@tether/shared';
import {
  hashUntilEnd,
  keystream,
  memory,
  MiB,
  KiB,
  rendezvous,
  sha256,
  startStack,
  startTarget,
  waitDrain,
} from './harness.mjs';

/** The writer counts as stopped once it has waited this long for 'drain' (a pacing choice, not an assertion). */
const STALL_MS = 400;

/**
 * In flight = accepted by the writer − read by the reader. What may legitimately sit between
 * them: the receiving stream's window (the relay holds at most that credit, and the receiver
 * holds at most what it has not handed on), the sending stream's queue (high-water mark plus
 * the chunk that crossed it), and the kernel's socket buffers on the TCP hop to the target: the
 * sender's send buffer can autotune up to tcp_wmem's maximum while the paused receiver holds
 * about tcp_rmem's default. The window starts at initialWindow and, while the consumer looks
 * fast (the kernel swallowing the first MiBs at memory speed), may auto-tune up to maxWindow.
 */
function kernelAllowance() {
  const read = (file, index, fallback) => {
    try {
      return Number(readFileSync(file, 'utf8').trim().split(/\s+/)[index]);
    } catch {
      return fallback;
    }
  };
  return read('/proc/sys/net/ipv4/tcp_wmem', 2, 4 * MiB) + read('/proc/sys/net/ipv4/tcp_rmem', 1, 128 * KiB);
}
const CHUNK = 64 * KiB;
/** Frame and socket-read granularity on each side of the window (a few chunks). */
const SLACK = 4 * CHUNK;
const boundFor = (window) => window + Defaults.streamHighWaterMark + kernelAllowance() + SLACK;
/** Bytes the writer pushes in all: well past every bound, so an unbounded path cannot pass. */
const TOTAL = Math.max(32 * MiB, boundFor(Defaults.maxWindow) + 8 * MiB);

/** Window settings to run under: a fixed window shows the mechanism, the defaults show the product. */
const configurations = [
  { name: 'fixed 1 MiB windows', session: { initialWindow: MiB, maxWindow: MiB }, window: MiB },
  { name: 'default auto-tuned windows', session: undefined, window: Defaults.maxWindow },
];

/**
 * A writer that produces `total` bytes of `next` as fast as backpressure allows. untilStalled()
 * writes until it has waited STALL_MS for 'drain' (or is done) and reports whether it stalled;
 * finish() writes the rest, ends, and returns the SHA-256 of everything written.
 */
function pacedWriter(writable, next, total) {
  const hash = sha256();
  let accepted = 0;
  let drain;
  const run = async (stopWhenStalled) => {
    while (accepted < total) {
      if (drain) {
        if (stopWhenStalled && await Promise.race([drain.then(() => false), sleep(STALL_MS, true)])) return true;
        await drain;
        drain = undefined;
      }
      const chunk = next(Math.min(CHUNK, total - accepted));
      hash.update(chunk);
      accepted += chunk.length;
      if (!writable.write(chunk)) {
        drain = waitDrain(writable);
        drain.catch(() => undefined); // awaited above; this only keeps a stalled wait from being "unhandled"
      }
    }
    return false;
  };
  return {
    get accepted() {
      return accepted;
    },
    untilStalled: () => run(true),
    finish: async () => {
      await run(false);
      writable.end();
      return hash.digest('hex');
    },
  };
}

let target;
/** Connection id (sent by the client after the mode byte) → what the target does with it. */
const connections = rendezvous();
let nextId = 0;
const stacks = [];

before(async () => {
  target = await startTarget((socket) => {
    socket.once('data', (first) => {
      const id = first[1];
      if (first[0] === 0x50 /* P */) {
        // Paused sink: stops reading at once (the test resumes it), ends once the client has.
        socket.pause();
        const received = hashUntilEnd(socket, 'paused sink', first.subarray(2));
        socket.pause();
        received.then(() => socket.end(), () => undefined);
        connections.set(id, { socket, received });
      } else {
        // Source: TOTAL bytes as fast as the socket takes them, then end.
        const writer = pacedWriter(socket, keystream(`source-${id}`), TOTAL);
        connections.set(id, { socket, writer, stalled: writer.untilStalled() });
      }
    });
  });
});

after(async () => {
  for (const stack of stacks) await stack.close();
  await target?.close();
});

const mib = (n) => `${(n / MiB).toFixed(2)} MiB`;

for (const { name, session, window } of configurations) {
  const bound = boundFor(window);
  let stack;
  const getStack = async () => {
    if (!stack) {
      stack = await startStack({ targetPort: target.port, session, tunnel: `slow-${stacks.length}` });
      stacks.push(stack);
    }
    return stack;
  };

  test(`a target that stops reading holds the writing client to a bounded amount in flight (${name})`, { timeout: 60_000 }, async (t) => {
    const { connector, tunnel, relay } = await getStack();
    const id = ++nextId;
    const start = await memory();
    const duplex = new MuxDuplex(await connector.open(tunnel));
    duplex.on('error', () => undefined); // a failure shows up as a short count below
    duplex.write(Buffer.from([0x50 /* P */, id]));
    const { socket, received } = await connections.get(id);
    const writer = pacedWriter(duplex, keystream(`upload-${id}`), TOTAL);
    const stalled = await writer.untilStalled();
    const during = await memory();
    const inFlight = writer.accepted + 2 - socket.bytesRead;
    t.diagnostic(`client wrote ${mib(writer.accepted)} before it was held back; target read ${socket.bytesRead} B; in flight ${mib(inFlight)} (bound ${mib(bound)}); relay→host link buffered ${relay.router.hostFor(tunnel)?.buffered ?? 0} B`);
    t.diagnostic(`memory before ${JSON.stringify(start)}, while held back ${JSON.stringify(during)}`);
    assert.ok(stalled, `the writer was never held back: it wrote all ${TOTAL} bytes while the target read ${socket.bytesRead}`);
    assert.ok(inFlight <= bound, `${inFlight} bytes in flight exceed the bound of ${bound}`);

    socket.resume();
    const sent = await writer.finish();
    const got = await received;
    t.diagnostic(`memory after ${JSON.stringify(await memory())}`);
    assert.equal(got.bytes, TOTAL, `target received ${got.bytes} of ${TOTAL} bytes`);
    assert.equal(got.sha256, sent);
  });

  test(`a client that stops reading holds the writing target to a bounded amount in flight (${name})`, { timeout: 60_000 }, async (t) => {
    const { connector, tunnel } = await getStack();
    const id = ++nextId;
    const start = await memory();
    const stream = await connector.open(tunnel);
    const duplex = new MuxDuplex(stream);
    duplex.on('error', () => undefined);
    duplex.pause();
    duplex.write(Buffer.from([0x53 /* S */, id]));
    const { writer, stalled } = await connections.get(id);
    assert.ok(await stalled, `the target was never held back: it wrote all ${TOTAL} bytes while the client read ${stream.bytesReceived}`);
    const during = await memory();
    const inFlight = writer.accepted - stream.bytesReceived;
    t.diagnostic(`target wrote ${mib(writer.accepted)} before it was held back; client holds ${mib(duplex.readableLength)} unread of ${mib(stream.bytesReceived)} received; in flight beyond the client ${mib(inFlight)} (bound ${mib(bound)})`);
    t.diagnostic(`memory before ${JSON.stringify(start)}, while held back ${JSON.stringify(during)}`);
    // Nothing was consumed, so the client's window cannot have grown: it holds one window at most.
    assert.ok(stream.bytesReceived <= (session?.initialWindow ?? Defaults.initialWindow), `client received ${stream.bytesReceived} bytes without consuming any`);
    assert.ok(inFlight <= bound, `${inFlight} bytes in flight exceed the bound of ${bound}`);

    const got = hashUntilEnd(duplex, 'client stream');
    duplex.resume();
    duplex.end();
    const sent = await writer.finish();
    const back = await got;
    t.diagnostic(`memory after ${JSON.stringify(await memory())}`);
    assert.equal(back.bytes, TOTAL, `client received ${back.bytes} of ${TOTAL} bytes`);
    assert.equal(back.sha256, sent);
  });
}
