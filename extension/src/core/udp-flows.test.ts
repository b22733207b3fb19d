import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { createSessionPair, ErrorCode, WireCode, type TetherError } from '@tether/shared';
import { memoryRelay } from '../test-support/testing.js';
import { HostAgent } from './host-agent.js';
import { UdpListener, type UdpListenerOptions } from './udp-listener.js';
import { UdpTarget, type UdpTargetOptions } from './udp-target.js';

/** Waits until `done()` holds, checking every few ms (no timing is asserted: the test's own timeout bounds it). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A UDP socket on 127.0.0.1 closed after the test. */
async function udpSocket(t: TestContext, port = 0): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  return socket;
}

/** A UDP echo service that answers "echo:" + what it got. */
async function echoService(t: TestContext): Promise<number> {
  const socket = await udpSocket(t);
  socket.on('message', (message, rinfo) => socket.send(Buffer.concat([Buffer.from('echo:'), message]), rinfo.port, rinfo.address));
  return socket.address().port;
}

/**
 * A connector's UdpListener and a host's UdpTarget joined by an in-memory session pair (what the
 * relay does in between is the router's tests'), the target in front of `targetPort`.
 */
async function flows(t: TestContext, targetPort: number, listener: Partial<UdpListenerOptions> = {}, target: Partial<UdpTargetOptions> = {}) {
  const { a, b } = createSessionPair();
  const host = new UdpTarget({ target: { host: '127.0.0.1', port: targetPort }, tunnel: 'dns', ...target });
  b.on('stream', (stream) => host.serve(b, stream));
  const connector = new UdpListener({ tunnel: 'dns', host: '127.0.0.1', port: 0, session: () => Promise.resolve(a), ...listener });
  const port = await connector.listen();
  t.after(() => {
    connector.close();
    host.close();
    a.destroy();
  });
  return { connector, host, port, a, b };
}

/** A client socket that collects what it is sent. */
async function client(t: TestContext) {
  const socket = await udpSocket(t);
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.toString()));
  return { socket, got, send: (text: string | Buffer, port: number) => socket.send(text, port, '127.0.0.1') };
}

test('each client address is one flow: its datagrams reach the service and the answers come back to it alone', async (t) => {
  const s = await flows(t, await echoService(t));
  const [one, two] = [await client(t), await client(t)];
  // Sent at once: the first ones wait for their flow's stream to be accepted, then go.
  for (let i = 0; i < 3; i++) one.send(`one ${i}`, s.port);
  two.send('two', s.port);
  await until(() => one.got.length === 3 && two.got.length === 1);
  assert.deepEqual(one.got.sort(), ['echo:one 0', 'echo:one 1', 'echo:one 2']);
  assert.deepEqual(two.got, ['echo:two']);
  assert.deepEqual([s.connector.stats.flows, s.connector.stats.up, s.connector.stats.down], [2, 4, 4]);
  assert.deepEqual([s.host.stats.flows, s.host.stats.up, s.host.stats.down], [2, 4, 4]);
  assert.deepEqual(s.connector.stats.dropped, {});
});

test('an idle flow ends on both sides; the next datagram of its client opens a new one', async (t) => {
  const s = await flows(t, await echoService(t), { idleTimeoutMs: 50 });
  const c = await client(t);
  const closed: (TetherError | undefined)[] = [];
  s.connector.on('flowClosed', (_remote, err) => closed.push(err));
  c.send('first', s.port);
  await until(() => c.got.length === 1);
  await until(() => closed.length === 1 && s.host.activeFlows === 0);
  assert.equal(closed[0], undefined, 'ended cleanly, not reset');
  assert.equal(s.a.streamCount + s.b.streamCount, 0);
  c.send('second', s.port);
  await until(() => c.got.length === 2);
  assert.equal(s.connector.stats.flowsOpened, 2);
});

test('the host ends idle flows too, and the connector follows', async (t) => {
  const s = await flows(t, await echoService(t), {}, { idleTimeoutMs: 50 });
  const c = await client(t);
  c.send('hello', s.port);
  await until(() => c.got.length === 1);
  await until(() => s.connector.stats.flows === 0 && s.a.streamCount === 0);
});

test('what does not fit is dropped and counted: too large, past the flow limit, past what a new flow holds', async (t) => {
  const s = await flows(t, await echoService(t), { maxDatagramSize: 100, maxFlows: 1, maxQueuedPerFlow: 2 });
  const [one, two] = [await client(t), await client(t)];
  for (let i = 0; i < 5; i++) one.send(`burst ${i}`, s.port);
  await until(() => one.got.length === 2);
  one.send(Buffer.alloc(101), s.port);
  two.send('no room', s.port);
  await until(() => (s.connector.stats.dropped.flow_limit ?? 0) === 1 && (s.connector.stats.dropped.too_large ?? 0) === 1);
  assert.deepEqual(s.connector.stats.dropped, { queue_full: 3, too_large: 1, flow_limit: 1 });
  one.send('still served', s.port);
  await until(() => one.got.includes('echo:still served'));
  assert.deepEqual(two.got, []);
});

test('a flow the host refuses is reported with its code; its datagrams are dropped for a moment, and others are unaffected', async (t) => {
  const { a, b } = createSessionPair();
  t.after(() => a.destroy());
  b.on('stream', (stream) => stream.reject(WireCode.TUNNEL_OFFLINE, 'tunnel dns is not being shared right now'));
  const listener = new UdpListener({ tunnel: 'dns', host: '127.0.0.1', port: 0, session: () => Promise.resolve(a) });
  t.after(() => listener.close());
  const port = await listener.listen();
  const errors: TetherError[] = [];
  listener.on('flowError', (_remote, err) => errors.push(err));
  const c = await client(t);
  c.send('query', port);
  await until(() => errors.length === 1);
  assert.equal(errors[0].code, ErrorCode.TUNNEL_OFFLINE);
  c.send('again', port);
  await until(() => (listener.stats.dropped.open_failed ?? 0) === 2);
  assert.equal(listener.stats.flows, 0);
});

test('a TCP client that sends bytes on a UDP flow is reset with a hint', async (t) => {
  const s = await flows(t, await echoService(t));
  const stream = s.a.openStream('dns');
  await once(stream, 'open');
  stream.write(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'));
  const [err] = (await once(stream, 'close')) as [TetherError];
  assert.equal(err.code, ErrorCode.PROTOCOL_ERROR);
  assert.match(err.message, /tether connect dns --udp/);
});

test('a listener on a port in use is refused with ADDRESS_IN_USE; bad options with INVALID_ARGUMENT', async (t) => {
  const taken = await udpSocket(t);
  const listener = new UdpListener({ tunnel: 'dns', host: '127.0.0.1', port: taken.address().port, session: () => Promise.reject(new Error('unused')) });
  await assert.rejects(listener.listen(), { code: ErrorCode.ADDRESS_IN_USE });
  assert.throws(() => new UdpListener({ tunnel: 'dns', host: '127.0.0.1', port: 0, idleTimeoutMs: 0, session: () => Promise.reject(new Error('unused')) }), { code: ErrorCode.INVALID_ARGUMENT });
  assert.throws(() => new UdpTarget({ tunnel: 'dns', target: { host: '127.0.0.1', port: 53 }, maxDatagramSize: -1 }), { code: ErrorCode.INVALID_ARGUMENT });
});

test('a HostAgent sharing a UDP service serves every stream a relay opens as a flow, and ends them when it stops', async (t) => {
  const relay = memoryRelay();
  const agent = new HostAgent({ tunnel: 'dns', target: { host: '127.0.0.1', port: await echoService(t) }, factory: relay.factory, udp: true, pool: { size: 1 } });
  t.after(() => agent.stop(0));
  await agent.start();
  const peer = relay.peers[0];
  const flows = [peer.openStream('dns'), peer.openStream('dns')];
  await Promise.all(flows.map((f) => once(f, 'open')));
  assert.equal(agent.activeStreams, 2);
  const got: [number, string][] = [];
  peer.on('datagram', (id, payload) => got.push([id, payload.toString()]));
  for (const [i, flow] of flows.entries()) peer.sendDatagram(flow.id, Buffer.from(`query ${i}`));
  await until(() => got.length === 2);
  assert.deepEqual(got.sort(), flows.map((f, i): [number, string] => [f.id, `echo:query ${i}`]).sort());
  await agent.stop(0);
  await until(() => flows.every((f) => f.state === 'closed'));
  assert.equal(agent.activeStreams, 0);
});
