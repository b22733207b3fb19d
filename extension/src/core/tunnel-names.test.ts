import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTunnelName } from '@tether/shared';
import { proposedName, suggestedName } from './tunnel-names.js';

test('the host name, cut to the relay rule', () => {
  assert.equal(suggestedName('Dev_Box.example.com'), 'dev-box');
  assert.equal(suggestedName('---'), 'my-machine');
  assert.equal(checkTunnelName(suggestedName(`${'a'.repeat(70)}.local`)), undefined);
});

test('a name this window shares for another service is not proposed again', () => {
  const taken = new Map([['laptop', '127.0.0.1:22']]);
  assert.equal(proposedName('laptop', 3000, taken, '127.0.0.1:3000'), 'laptop-3000');
  // The same service again: its own name is fine.
  assert.equal(proposedName('laptop', 22, taken, '127.0.0.1:22'), 'laptop');
  taken.set('laptop-3000', '127.0.0.1:9999');
  assert.equal(proposedName('laptop', 3000, taken, '127.0.0.1:3000'), 'laptop-3000-2');
});

test('a long host name still gives a valid name with the port', () => {
  const host = 'h'.repeat(63);
  const name = proposedName(host, 65535, new Map([[host, '127.0.0.1:22']]), '127.0.0.1:65535');
  assert.equal(checkTunnelName(name), undefined);
  assert.match(name, /-65535$/);
});
