import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { closedPort } from '../test-support/testing.js';
import { targetListens } from './target-probe.js';

test('true for a port something listens on, false for a closed one', async (t) => {
  const server = net.createServer((s) => s.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  assert.equal(await targetListens({ host: '127.0.0.1', port }), true);
  assert.equal(await targetListens({ host: '127.0.0.1', port: await closedPort() }), false);
});
