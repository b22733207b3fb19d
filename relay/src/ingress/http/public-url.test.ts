import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { publicUrlOf } from './public-url.js';

const upgrade = (url: string, host = '127.0.0.1:8080'): IncomingMessage => ({ url, headers: { host } }) as IncomingMessage;

test("an HTTP tunnel's host is told its URL; other upgrades are not", () => {
  assert.equal(publicUrlOf(upgrade('/v1/host?http=http1&tunnel=web'), 'localhost', false), 'http://web.localhost:8080');
  assert.equal(publicUrlOf(upgrade('/v1/host?http=h2c&tunnel=api', 'relay.example:443'), 'tunnels.example', true), 'https://api.tunnels.example');
  assert.equal(publicUrlOf(upgrade('/v1/host?http=http1&tunnel=web', 'relay.example'), 'tunnels.example', false), 'http://web.tunnels.example');
  assert.equal(publicUrlOf(upgrade('/v1/host?tunnel=web'), 'localhost', false), undefined, 'not an HTTP tunnel');
  assert.equal(publicUrlOf(upgrade('/v1/connect'), 'localhost', false), undefined);
  assert.equal(publicUrlOf(upgrade('/v1/host?http=http1&tunnel=Bad%20Name'), 'localhost', false), undefined);
});
