import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  createError,
  ErrorCode,
  isTetherError,
  MIN_REPLAY_BUFFER_BYTES,
  type MuxSession,
  type MuxStream,
  type TetherError,
} from '@tether/shared';
import { Connector } from './connector.js';
import { HostAgent } from './host-agent.js';
import type { SessionFactory } from './relay-session.js';
import { closedPort, listening, memoryRelay } from '../test-support/testing.js';

/** Opens a stream from the relay's side and waits for the agent's answer. */
async function openFromRelay(peer: MuxSession, tunnel = 'box'): Promise<MuxStream> {
  const stream = peer.openStream(tunnel);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', resolve);
    stream.once('close', (err) => reject(err ?? new Error('closed')));
  });
  return stream;
}

function openError(peer: MuxSession, tunnel = 'box'): Promise<TetherError | undefined> {
  return openFromRelay(peer, tunnel).then(
    () => undefined,
    (err: TetherError) => err,
  );
}

/** Sends `text`, ends, and resolves with what comes back up to the peer's FIN. */
function roundTrip(stream: MuxStream, text: string): Promise<string> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (c) => {
      chunks.push(Buffer.from(c));
      stream.consume(c.length);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks).toString()));
    stream.once('close', (err) => {
      if (err) reject(err);
    });
    stream.write(Buffer.from(text));
    stream.end();
  });
}

function closedWith(stream: MuxStream): Promise<TetherError | undefined> {
  if (stream.state === 'closed') return Promise.resolve(stream.error);
  return new Promise((resolve) => stream.once('close', resolve));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe('HostAgent (in-memory relay)', () => {
  const echo = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  let echoPort = 0;
  const agents: HostAgent[] = [];
  const agent = (relay: ReturnType<typeof memoryRelay>, extra: Partial<ConstructorParameters<typeof HostAgent>[0]> = {}): HostAgent => {
    const a = new HostAgent({ tunnel: 'box', target: { host: '127.0.0.1', port: echoPort }, factory: relay.factory, ...extra });
    agents.push(a);
    return a;
  };

  before(async () => {
    echoPort = await listening(echo);
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop(0)));
    echo.close();
  });

  test('registers its tunnel and joins each stream to the target', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    const events: string[] = [];
    host.on('ready', () => events.push('ready'));
    host.on('stream', (id) => events.push(`stream ${id}`));
    const connected: number[] = [];
    host.on('targetConnected', (id) => connected.push(id));
    host.on('streamClosed', (id, err) => events.push(`closed ${id} ${err?.code ?? 'clean'}`));
    await host.start();
    assert.deepEqual(relay.calls, [['host', 'box']]);

    const [s1, s2] = await Promise.all([openFromRelay(relay.peers[0]), openFromRelay(relay.peers[0])]);
    assert.equal(host.activeStreams, 2);
    assert.deepEqual(await Promise.all([roundTrip(s1, 'one'), roundTrip(s2, 'two')]), ['one', 'two']);
    await until(() => host.activeStreams === 0);
    assert.equal(host.streamsServed, 2);
    assert.deepEqual(events, ['ready', `stream ${s1.id}`, `stream ${s2.id}`, `closed ${s1.id} clean`, `closed ${s2.id} clean`]);
    assert.deepEqual(connected.sort(), [s1.id, s2.id].sort());
    assert.ok(host.rttMs >= 0);
  });

  test('a refused target refuses the stream with TARGET_REFUSED', async () => {
    const relay = memoryRelay();
    const host = agent(relay, { target: { host: '127.0.0.1', port: await closedPort() } });
    const closed: (string | undefined)[] = [];
    host.on('streamClosed', (_id, err) => closed.push(err?.code));
    host.on('targetConnected', () => assert.fail('the target refused: nothing connected'));
    await host.start();
    assert.equal((await openError(relay.peers[0]))?.code, ErrorCode.TARGET_REFUSED);
    await until(() => closed.length === 1);
    assert.deepEqual(closed, [ErrorCode.TARGET_REFUSED]);
  });

  test('OPEN metadata the agent cannot read refuses the stream with FRAME_INVALID; the agent serves on', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const peer = relay.peers[0];
    const cases = [Buffer.from('{"target":"ssh"}'), Buffer.from([2]), Buffer.from([1, 0, 1, 0, 5, 0x54])];
    for (const metadata of cases) {
      const stream = peer.openStream('box', metadata);
      const err = await new Promise<TetherError | undefined>((resolve) => {
        stream.once('open', () => resolve(undefined));
        stream.once('close', resolve);
      });
      assert.equal(err?.code, ErrorCode.FRAME_INVALID, metadata.toString('hex'));
    }
    assert.equal(host.streamsServed, 0, 'nothing was connected to the target');
    assert.equal(await roundTrip(await openFromRelay(peer), 'still here'), 'still here');
  });

  test('a target that never answers refuses the stream with TARGET_UNREACHABLE', async () => {
    // A listener that never accepts, its backlog filled by two connections: further attempts
    // hang in SYN_SENT, as with an unroutable host. (Node reads a backlog of 0 as the default.)
    const child = spawn(process.execPath, ['-e', `
      const s = require('node:net').createServer();
      s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
        process.stdout.write(s.address().port + '\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const port = Number(line.toString().trim());
      const fillers = [0, 1].map(() => net.connect({ host: '127.0.0.1', port }).on('error', () => undefined));
      await Promise.all(fillers.map((f) => once(f, 'connect')));
      const relay = memoryRelay();
      const host = agent(relay, { target: { host: '127.0.0.1', port }, connectTimeoutMs: 100 });
      await host.start();
      assert.equal((await openError(relay.peers[0]))?.code, ErrorCode.TARGET_UNREACHABLE);
      for (const f of fillers) f.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a stream reset by the relay while the target connects is dropped', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const closed = new Promise<TetherError | undefined>((resolve) => host.once('streamClosed', (_id, err) => resolve(err)));
    const stream = relay.peers[0].openStream('box');
    stream.reset();
    assert.equal((await closed)?.code, ErrorCode.CANCELLED);
  });

  test('the first connection failing rejects start() with its code', async () => {
    const relay = memoryRelay();
    relay.failures.push(createError(ErrorCode.TUNNEL_FORBIDDEN, 'not yours'));
    await assert.rejects(agent(relay).start(), (err) => isTetherError(err, ErrorCode.TUNNEL_FORBIDDEN));
  });

  test('refuses an invalid tunnel name', () => {
    assert.throws(() => agent(memoryRelay(), { tunnel: 'Not_Valid' }), (err) => isTetherError(err, ErrorCode.INVALID_TUNNEL_NAME));
  });

  test('reconnects with backoff after the relay link drops', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const disconnected = once(host, 'disconnected') as Promise<[TetherError, number | undefined]>;
    const ready = once(host, 'ready');
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'link dropped'));
    const [err, delay] = await disconnected;
    assert.equal(err.code, ErrorCode.CONNECTION_LOST);
    assert.ok(delay !== undefined && delay >= 250 && delay <= 500, `first retry in ${delay} ms`);
    await ready;
    assert.deepEqual(relay.calls, [['host', 'box'], ['host', 'box']]);
    assert.equal(await roundTrip(await openFromRelay(relay.peers[1]), 'again'), 'again');
  });

  test('keeps retrying a retryable failure with growing delays, stops on a fatal one', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const seen: [string, number | undefined][] = [];
    host.on('disconnected', (err, delay) => seen.push([err.code, delay]));
    const retries: number[] = [];
    host.on('state', (state) => {
      const e = state.endpoints[0];
      if (e.lastError?.code === ErrorCode.RELAY_UNREACHABLE && e.retryInMs !== undefined && retries.length === 0) retries.push(e.retryInMs);
    });
    const failed = once(host, 'error') as Promise<[TetherError]>;
    relay.failures.push(createError(ErrorCode.RELAY_UNREACHABLE, 'down'), createError(ErrorCode.UNAUTHORIZED, 'token revoked'));
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'link dropped'));
    const [err] = await failed;
    assert.equal(err.code, ErrorCode.UNAUTHORIZED);
    assert.deepEqual(seen.map(([code]) => code), [ErrorCode.CONNECTION_LOST], 'one disconnect per outage, not one per attempt');
    const first = seen[0][1] ?? -1;
    assert.ok(first >= 250 && first <= 500, `first retry in ${first} ms`);
    assert.ok(retries[0] >= 500 && retries[0] <= 1000, `second retry in ${retries[0]} ms`);
    assert.equal(relay.calls.length, 3);
  });

  test('with reconnect off, a dropped link is reported with no retry', async () => {
    const relay = memoryRelay();
    const host = agent(relay, { reconnect: false });
    await host.start();
    const disconnected = once(host, 'disconnected') as Promise<[TetherError, number | undefined]>;
    relay.peers[0].destroy(createError(ErrorCode.GOING_AWAY, 'relay restarting'));
    const [err, delay] = await disconnected;
    assert.equal(err.code, ErrorCode.GOING_AWAY);
    assert.equal(delay, undefined);
  });

  test('stop() during the retry delay cancels the reconnect', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const disconnected = once(host, 'disconnected') as Promise<[TetherError, number]>;
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'link dropped'));
    const [, delay] = await disconnected;
    await host.stop();
    await new Promise((r) => setTimeout(r, delay + 100));
    assert.equal(relay.calls.length, 1);
  });

  test('stop() sends GOAWAY, refuses new streams, lets the open one finish, then disconnects', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const peer = relay.peers[0];
    const open = await openFromRelay(peer);
    const goaway = once(peer, 'goaway') as Promise<[number, TetherError]>;
    const peerClosed = once(peer, 'close') as Promise<[TetherError | undefined]>;
    let stopped = false;
    const stopping = host.stop(60_000).then(() => (stopped = true));

    const [lastStreamId, err] = await goaway;
    assert.equal(err.code, ErrorCode.GOING_AWAY);
    assert.equal(lastStreamId, open.id);
    assert.equal((await openError(peer))?.code, ErrorCode.GOING_AWAY);
    assert.equal(stopped, false);

    assert.equal(await roundTrip(open, 'last words'), 'last words');
    await stopping;
    const [closeErr] = await peerClosed;
    assert.equal(closeErr, undefined);
    assert.equal(relay.calls.length, 1);
  });

  test('stop() cuts streams still open when the drain time is up', async () => {
    const relay = memoryRelay();
    const host = agent(relay);
    await host.start();
    const open = await openFromRelay(relay.peers[0]);
    await host.stop(0);
    assert.equal((await closedWith(open))?.code, ErrorCode.CONNECTION_LOST);
  });
});

describe('HostAgent refuses a target it could never connect to', () => {
  const noFactory: SessionFactory = () => Promise.reject(new Error('must not connect'));
  for (const target of [
    { host: '127.0.0.1', port: 0 },
    { host: '127.0.0.1', port: 65_536 },
    { host: '127.0.0.1', port: 22.5 },
    { host: '', port: 22 },
  ]) {
    test(`${target.host || '(empty host)'}:${target.port}`, () => {
      assert.throws(() => new HostAgent({ tunnel: 'box', target, factory: noFactory }), { code: ErrorCode.INVALID_ARGUMENT });
    });
  }
});

test('HostAgent and Connector refuse a replay buffer below the smallest one, before any stream', () => {
  const noFactory: SessionFactory = () => Promise.reject(new Error('must not connect'));
  const resumable = { replayBufferBytes: MIN_REPLAY_BUFFER_BYTES - 1 };
  const refused = { code: ErrorCode.INVALID_ARGUMENT, message: `a replay buffer of ${MIN_REPLAY_BUFFER_BYTES - 1} bytes is below the smallest allowed, ${MIN_REPLAY_BUFFER_BYTES}` };
  assert.throws(() => new HostAgent({ tunnel: 'box', target: { host: '127.0.0.1', port: 22 }, factory: noFactory, resumable }), refused);
  assert.throws(() => new Connector(noFactory, { resumable }), refused);
  assert.doesNotThrow(() => new Connector(noFactory, { resumable: { replayBufferBytes: MIN_REPLAY_BUFFER_BYTES } }));
});
