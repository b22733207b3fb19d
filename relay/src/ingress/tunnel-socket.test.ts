/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { createSessionPair, MuxDuplex } from '@tether/shared';
import { TunnelSocket } from './tunnel-socket.js';

/** An HTTP server at the far end of a session pair, and an agent whose sockets are TunnelSockets to it. */
function agentOverTunnel(agentOptions: http.AgentOptions): { agent: http.Agent; sockets: TunnelSocket[]; close: () => void } {
  const { a, b } = createSessionPair();
  const server = http.createServer((_req, res) => res.end('ok'));
  b.on('stream', (stream) => {
    stream.accept();
    server.emit('connection', new MuxDuplex(stream));
  });
  const sockets: TunnelSocket[] = [];
  class Agent extends http.Agent {
    override createConnection(_options: unknown, callback: (err: Error | null, socket?: Duplex) => void): Duplex {
      const socket = new TunnelSocket(a.openStream('web'));
      sockets.push(socket);
      callback(null, socket);
      return undefined as unknown as Duplex;
    }
  }
  const agent = new Agent(agentOptions);
  return { agent, sockets, close: () => (agent.destroy(), a.destroy()) };
}

async function get(agent: http.Agent): Promise<string> {
  const req = http.request({ agent, host: 'web', path: '/' });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return body;
}

test('a kept-alive tunnel socket does not gather a timeout listener per request', async () => {
  const { agent, sockets, close } = agentOverTunnel({ keepAlive: true, maxSockets: 1, timeout: 30_000 });
  try {
    for (let i = 0; i < 50; i++) assert.equal(await get(agent), 'ok');
    assert.equal(sockets.length, 1, 'one stream kept alive for every request');
    // The agent's own listener, and none left by the 50 requests.
    const listeners = sockets[0]?.listenerCount('timeout') ?? NaN;
    assert.ok(listeners <= 1, `${listeners} timeout listeners`);
  } finally {
    close();
  }
});

test('setTimeout(0, callback) takes the callback off, as on a net.Socket', () => {
  const { a } = createSessionPair();
  const socket = new TunnelSocket(a.openStream('web'));
  const callback = (): void => undefined;
  socket.setTimeout(1000, callback);
  assert.equal(socket.listenerCount('timeout'), 1);
  socket.setTimeout(0, callback);
  assert.equal(socket.listenerCount('timeout'), 0);
  assert.equal(socket.timeout, 0);
  // The stream was never accepted: ending the session errs it, which is expected here.
  socket.on('error', () => undefined);
  a.destroy();
});
