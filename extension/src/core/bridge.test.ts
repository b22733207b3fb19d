import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  createSessionPair,
  ErrorCode,
  WireCode,
  type MuxStream,
  type SessionPairOptions,
  type TetherError,
} from '@tether/shared';
import { bridge } from './bridge.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** An open stream between two in-memory sessions: `local` gets bridged, the test plays `remote`. */
async function streamPair(options: SessionPairOptions = {}): Promise<{ local: MuxStream; remote: MuxStream }> {
  const { a, b } = createSessionPair(options);
  const incoming = once(b, 'stream') as Promise<[MuxStream]>;
  const local = a.openStream('box');
  const [remote] = await incoming;
  remote.accept();
  await once(local, 'open');
  return { local, remote };
}

/** Everything a stream delivers up to its FIN, acknowledged as it arrives. */
function readAll(stream: MuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk) => {
      chunks.push(Buffer.from(chunk));
      stream.consume(chunk.length);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('close', (err) => {
      if (err) reject(err);
    });
  });
}

/** Writes `data` honouring backpressure, then ends the stream. */
async function writeAll(stream: MuxStream, data: Buffer, chunkSize = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    if (!stream.write(data.subarray(offset, offset + chunkSize))) await once(stream, 'drain');
  }
  stream.end();
}

function closedWith(stream: MuxStream): Promise<TetherError | undefined> {
  if (stream.state === 'closed') return Promise.resolve(stream.error);
  return new Promise((resolve) => stream.once('close', resolve));
}

function readSocket(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
}

/** Waits until `value()` has stopped changing and `ready()` holds (a writer is blocked). */
async function plateau(value: () => number, ready: () => boolean): Promise<number> {
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await new Promise((r) => setTimeout(r, 20));
    const v = value();
    stable = v === last && ready() ? stable + 1 : 0;
    last = v;
  }
  return last;
}

describe('bridge over a real TCP socket', () => {
  const server = net.createServer({ allowHalfOpen: true });
  let port = 0;

  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  /** A connected client socket (to be bridged) and the server's end of it (the far side). */
  async function connection(): Promise<{ client: net.Socket; far: net.Socket }> {
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    client.on('error', () => undefined); // the bridge reports it
    await once(client, 'connect');
    const [far] = await accepted;
    far.on('error', () => undefined);
    return { client, far };
  }

  test('carries bytes both ways intact', async () => {
    const { local, remote } = await streamPair();
    const { client, far } = await connection();
    const up = randomBytes(3 * 1024 * 1024 + 17);
    const down = randomBytes(2 * 1024 * 1024 + 5);

    const bridged = bridge(local, client, client);
    const farGot = readSocket(far);
    far.end(down);
    const remoteGot = readAll(remote);
    await writeAll(remote, up);

    assert.equal(sha256(await farGot), sha256(up));
    assert.equal(sha256(await remoteGot), sha256(down));
    assert.equal(await bridged, undefined);
    assert.equal(await closedWith(remote), undefined);
  });

  test('the local side ending first: the peer sees the end and can still answer', async () => {
    const { local, remote } = await streamPair();
    const { client, far } = await connection();
    const bridged = bridge(local, client, client);
    const farGot = readSocket(far);
    const remoteGot = readAll(remote);
    far.end('request');

    assert.equal((await remoteGot).toString(), 'request');
    assert.equal(remote.state, 'half-closed-remote');
    remote.write(Buffer.from('late answer'));
    remote.end();
    assert.equal((await farGot).toString(), 'late answer');
    assert.equal(await bridged, undefined);
  });

  test('the peer ending first: the local side sees the end and can still answer', async () => {
    const { local, remote } = await streamPair();
    const { client, far } = await connection();
    const bridged = bridge(local, client, client);
    const farGot = readSocket(far);
    const remoteGot = readAll(remote);
    remote.write(Buffer.from('ping'));
    remote.end();

    assert.equal((await farGot).toString(), 'ping');
    far.end('pong');
    assert.equal((await remoteGot).toString(), 'pong');
    assert.equal(await bridged, undefined);
  });

  test('a reset from the peer resets the local connection', async () => {
    const { local, remote } = await streamPair();
    const { client, far } = await connection();
    const bridged = bridge(local, client, client);
    const farError = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      far.once('error', resolve);
      far.once('close', () => resolve(undefined));
    });
    remote.write(Buffer.from('some bytes'));
    remote.reset(WireCode.PEER_GONE, 'host vanished');

    assert.equal((await bridged)?.code, ErrorCode.PEER_GONE);
    assert.equal(client.destroyed, true);
    await once(client, 'close');
    // An abort reaches the TCP peer as an abort, not as a clean end of data. (Node reports a
    // reset that arrives right behind data only on the next write, hence the probe.)
    far.write('probe');
    assert.equal((await farError)?.code, 'ECONNRESET');
  });

  test('a reset right after the peer ended still closes the local socket (no leaked handle)', { timeout: 10_000 }, async () => {
    const { local, remote } = await streamPair();
    const { client } = await connection();
    const bridged = bridge(local, client, client);
    // FIN then RST back to back (ssh2 does this when it gives up): the bridge half-closes the
    // socket (a shutdown is queued) and the abort arrives before that shutdown completes.
    remote.end();
    remote.reset(WireCode.CANCELLED, 'gave up');
    assert.equal((await bridged)?.code, ErrorCode.CANCELLED);
    // libuv refuses a TCP reset once a shutdown is queued; the socket must still be closed.
    await once(client, 'close');
    assert.equal(client.destroyed, true);
  });

  test('a stream reset before the bridge starts ends the bridge and the socket at once', { timeout: 10_000 }, async () => {
    const { local, remote } = await streamPair();
    const { client } = await connection();
    remote.reset(WireCode.PEER_GONE, 'host vanished');
    await closedWith(local); // its 'close' has fired before anyone bridged it
    assert.equal((await bridge(local, client, client))?.code, ErrorCode.PEER_GONE);
    assert.equal(client.destroyed, true);
  });

  const localFailures: [what: string, fail: (c: { client: net.Socket; far: net.Socket }) => void][] = [
    ['the bridged socket is destroyed', ({ client }) => client.destroy()],
    ['the far end resets the connection', ({ far }) => far.resetAndDestroy()],
  ];
  for (const [what, fail] of localFailures) {
    test(`${what} → the peer's stream is reset`, async () => {
      const { local, remote } = await streamPair();
      const c = await connection();
      const bridged = bridge(local, c.client, c.client);
      const remoteClosed = closedWith(remote);
      fail(c);
      assert.equal((await remoteClosed)?.code, ErrorCode.CANCELLED);
      assert.equal((await bridged)?.code, ErrorCode.CANCELLED);
    });
  }

  test('a paused sink holds the peer to the window', { timeout: 60_000 }, async () => {
    const window = 256 * 1024;
    const { local, remote } = await streamPair({ a: { initialWindow: window, maxWindow: window } });
    const { client, far } = await connection();
    far.pause();
    const bridged = bridge(local, client, client);

    const hash = createHash('sha256');
    let written = 0;
    let waiting = false;
    let stop = false;
    const cap = 512 * 1024 * 1024; // far beyond any kernel buffer: reaching it means no backpressure
    const writer = (async () => {
      while (!stop && written < cap) {
        const chunk = randomBytes(64 * 1024);
        hash.update(chunk);
        written += chunk.length;
        if (!remote.write(chunk)) {
          waiting = true;
          await once(remote, 'drain');
          waiting = false;
        }
      }
      remote.end();
    })();

    const sent = await plateau(() => remote.bytesSent, () => waiting);
    assert.ok(sent < cap, 'the peer was never held back');
    // Everything the peer sent went into the socket; what the kernel has not taken yet sits in
    // the socket's buffer and must stay within one window (plus the socket's own high-water mark).
    assert.equal(local.bytesReceived, sent);
    assert.ok(client.writableLength <= window + client.writableHighWaterMark + 64 * 1024, `${client.writableLength} bytes queued`);

    stop = true;
    const farGot = createHash('sha256');
    let farLength = 0;
    far.on('data', (c: Buffer) => {
      farGot.update(c);
      farLength += c.length;
    });
    far.resume();
    await once(far, 'end');
    await writer;
    far.end();
    assert.equal(farLength, written);
    assert.equal(farGot.digest('hex'), hash.digest('hex'));
    assert.equal(await bridged, undefined);
  });
});

describe('bridge over plain streams (stdin/stdout)', () => {
  test('a sink that takes nothing stops the peer at exactly the initial window', async () => {
    const window = 128 * 1024;
    const { local, remote } = await streamPair({ a: { initialWindow: window, maxWindow: window } });
    const held: (() => void)[] = [];
    let paused = true;
    const received: Buffer[] = [];
    const output = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        if (paused) held.push(callback);
        else callback();
      },
    });
    const input = new PassThrough();
    const bridged = bridge(local, input, output);
    input.end();

    const data = randomBytes(1024 * 1024);
    const writing = writeAll(remote, data, 16 * 1024);
    const sent = await plateau(() => remote.bytesSent, () => remote.queuedBytes > 0);
    assert.equal(sent, window);

    paused = false;
    for (const callback of held.splice(0)) callback();
    await writing;
    assert.equal(await bridged, undefined);
    assert.equal(sha256(Buffer.concat(received)), sha256(data));
  });

  test('stdin reaching EOF first does not cut off the answer', async () => {
    const { local, remote } = await streamPair();
    const input = new PassThrough();
    const output = new PassThrough();
    const bridged = bridge(local, input, output);
    const remoteGot = readAll(remote);
    input.end('question');
    assert.equal((await remoteGot).toString(), 'question');
    if (!input.closed) await once(input, 'close');
    const answer = randomBytes(512 * 1024);
    const outputGot: Buffer[] = [];
    output.on('data', (c: Buffer) => outputGot.push(c));
    await writeAll(remote, answer);
    assert.equal(await bridged, undefined);
    assert.equal(sha256(Buffer.concat(outputGot)), sha256(answer));
  });

  test('stdout closing before the answer is complete resets the stream', async () => {
    const { local, remote } = await streamPair();
    const input = new PassThrough();
    const output = new PassThrough();
    const bridged = bridge(local, input, output);
    remote.write(Buffer.from('partial'));
    output.destroy();
    assert.equal((await closedWith(remote))?.code, ErrorCode.CANCELLED);
    assert.equal((await bridged)?.code, ErrorCode.CANCELLED);
  });

  test('a failing input resets the stream', async () => {
    const { local, remote } = await streamPair();
    const input = new PassThrough();
    const output = new PassThrough();
    const bridged = bridge(local, input, output);
    input.destroy(new Error('EIO'));
    assert.equal((await closedWith(remote))?.code, ErrorCode.CANCELLED);
    assert.equal((await bridged)?.code, ErrorCode.CANCELLED);
  });
});

describe('bridge over real pipes and Unix sockets (what ssh gives a ProxyCommand)', { timeout: 20_000 }, () => {
  test('the reader of the output pipe going away (EPIPE) resets the stream without throwing', async () => {
    const { local, remote } = await streamPair();
    // A real pipe: a child's stdin is a net.Socket over a Pipe handle, which cannot be reset.
    const reader = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const output = reader.stdin;
    const input = new PassThrough();
    const bridged = bridge(local, input, output);
    reader.kill('SIGKILL');
    await once(reader, 'exit');
    // Keep writing until the write end notices the reader is gone.
    const writing = (async () => {
      while (remote.state !== 'closed') {
        remote.write(Buffer.alloc(16 * 1024));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    assert.equal((await bridged)?.code, ErrorCode.CANCELLED);
    assert.equal((await closedWith(remote))?.code, ErrorCode.CANCELLED);
    await writing;
    assert.equal(output.destroyed, true);
  });

  test('a reset stream destroys a Unix-socket connection (no TCP reset) without throwing', async (t) => {
    const path = `${tmpdir()}/tether-bridge-${process.pid}-${Date.now()}.sock`;
    const server = net.createServer();
    server.listen(path);
    await once(server, 'listening');
    t.after(() => server.close());
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const client = net.connect(path);
    await once(client, 'connect');
    const [peer] = await accepted;
    const { local, remote } = await streamPair();
    const bridged = bridge(local, peer, peer);
    remote.reset(WireCode.CANCELLED, 'gone');
    assert.equal((await bridged)?.code, ErrorCode.CANCELLED);
    assert.equal(peer.destroyed, true);
    client.destroy();
  });
});
