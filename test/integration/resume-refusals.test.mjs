// Resume refusals through a real relay and a real host agent: a forged or replayed resume, a
// stream nobody knows and an offset outside the replay buffer are each refused with their code;
// the forgeries leave the real stream alone, the bad offset resets it on both ends.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { encodeOpenMetadata, ErrorCode, resumeHello } from '@tether/shared';
import { connectRelaySession } from '@tether/extension';
import { startStack, startTarget } from './harness.mjs';

let target;
let stack;
let raw;

before(async () => {
  // An echo target.
  target = await startTarget((socket) => socket.pipe(socket));
  stack = await startStack({ targetPort: target.port });
  raw = await connectRelaySession({ relay: stack.url, token: stack.tokens.alice, endpoint: 'connect' });
});

after(async () => {
  raw.close();
  await stack.close();
  await target.close();
});

/** Opens a real resumable stream and proves it echoes. */
async function liveStream() {
  const stream = await stack.connector.open(stack.tunnel);
  assert.equal(await echo(stream, 'ping'), 'ping');
  return stream;
}

function echo(stream, text) {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk) => {
      got += chunk.toString();
      stream.consume(chunk.length);
      if (got.length >= text.length) {
        stream.off('data', onData);
        stream.off('close', onClose);
        resolve(got);
      }
    };
    const onClose = (err) => reject(err ?? new Error('closed'));
    stream.on('data', onData);
    stream.once('close', onClose);
    stream.write(Buffer.from(text));
  });
}

/** Sends a RESUME hello (in OPEN metadata) through the relay on a separate connection; resolves with the refusal. */
function forge(hello) {
  const mux = raw.session.openStream(stack.tunnel, encodeOpenMetadata({ hello }));
  return new Promise((resolve) => {
    mux.once('open', () => resolve(undefined));
    mux.once('close', (err) => resolve(err));
  });
}

test('a resume with a wrong secret is refused with RESUME_SECRET; the real stream carries on', async () => {
  const stream = await liveStream();
  const err = await forge(resumeHello(stream.id, randomBytes(32), 1, 0));
  assert.equal(err?.code, ErrorCode.RESUME_SECRET);
  assert.equal(await echo(stream, 'still here'), 'still here');
  stream.end();
});

test('a replayed attempt is refused with RESUME_SECRET even with the right secret', async () => {
  const stream = await liveStream();
  const secret = stream.secret;
  // Attempt 5 with the right proof moves the stream (the test plays the opener's peer); attempt 5 again is a replay.
  const first = await forge(resumeHello(stream.id, secret, 5, 0));
  assert.equal(first, undefined, 'a genuine resume is accepted');
  const again = await forge(resumeHello(stream.id, secret, 5, 0));
  assert.equal(again?.code, ErrorCode.RESUME_SECRET);
  stream.reset();
});

test('a resume of a stream nobody knows is refused with RESUME_UNKNOWN', async () => {
  const err = await forge(resumeHello(randomBytes(16), randomBytes(32), 1, 0));
  assert.equal(err?.code, ErrorCode.RESUME_UNKNOWN);
});

test('an offset outside the replay buffer is refused with RESUME_OFFSET and the stream is reset on both ends', async () => {
  const socketClosed = new Promise((resolve) => target.server.once('connection', (socket) => socket.once('close', resolve)));
  const stream = await liveStream();
  const closed = new Promise((resolve) => stream.once('close', resolve));
  // The host has sent 4 bytes ("ping" echoed); asking to resume from byte 1000 cannot work.
  const err = await forge(resumeHello(stream.id, stream.secret, 9, 1000));
  assert.equal(err?.code, ErrorCode.RESUME_OFFSET);
  assert.equal((await closed)?.code, ErrorCode.RESUME_OFFSET, "the connector's end is reset with the code");
  await socketClosed;
  // The relay and the tunnel serve new streams as before.
  const fresh = await liveStream();
  fresh.end();
});
