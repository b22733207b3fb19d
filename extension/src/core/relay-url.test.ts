import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isTetherError } from '@tether/shared';
import { parseHostPort, parseRelayUrl } from './relay-url.js';

describe('parseRelayUrl', () => {
  const accepted: [input: string, http: string, ws: string][] = [
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080', 'ws://127.0.0.1:8080'],
    ['https://relay.example.com', 'https://relay.example.com', 'wss://relay.example.com'],
    ['ws://127.0.0.1:9000', 'http://127.0.0.1:9000', 'ws://127.0.0.1:9000'],
    ['wss://relay.example.com:8443', 'https://relay.example.com:8443', 'wss://relay.example.com:8443'],
    ['relay.example.com:8080', 'http://relay.example.com:8080', 'ws://relay.example.com:8080'],
    ['localhost', 'http://localhost', 'ws://localhost'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080', 'ws://127.0.0.1:8080'],
    ['http://127.0.0.1:8080//', 'http://127.0.0.1:8080', 'ws://127.0.0.1:8080'],
    ['httpbin.example.com:8080', 'http://httpbin.example.com:8080', 'ws://httpbin.example.com:8080'],
    ['wss-relay.example.com', 'http://wss-relay.example.com', 'ws://wss-relay.example.com'],
    ['HTTP://Relay.Example.COM:8080', 'http://relay.example.com:8080', 'ws://relay.example.com:8080'],
    ['http://[::1]:8080', 'http://[::1]:8080', 'ws://[::1]:8080'],
  ];
  for (const [input, http, ws] of accepted) {
    test(`accepts ${input}`, () => {
      assert.deepEqual(parseRelayUrl(input), { http, ws });
    });
  }

  const refused: [what: string, input: string, message: string][] = [
    ['credentials', 'http://alice:secret@relay.example.com', 'the relay URL must not carry a user name or password: give the token on its own (--token or TETHER_TOKEN for the CLI, the token box in VS Code)'],
    ['a user name alone', 'https://alice@relay.example.com', 'the relay URL must not carry a user name or password: give the token on its own (--token or TETHER_TOKEN for the CLI, the token box in VS Code)'],
    ['ftp', 'ftp://relay.example.com', 'relay URL "ftp://relay.example.com" has the scheme ftp: use http://, https://, ws:// or wss://'],
    ['file', 'file:///etc/passwd', 'relay URL "file:///etc/passwd" has the scheme file: use http://, https://, ws:// or wss://'],
    ['garbage', 'http://exa mple.com', 'relay URL "http://exa mple.com" is malformed: write it as http://HOST:PORT'],
    ['an empty string', '', 'relay URL "" is malformed: write it as http://HOST:PORT'],
    ['a bad port', 'wss://relay.example.com:99999', 'relay URL "wss://relay.example.com:99999" is malformed: write it as wss://HOST:PORT'],
    ['an unclosed IPv6 bracket', 'http://[::1:8080', 'relay URL "http://[::1:8080" is malformed: write it as http://HOST:PORT'],
    // Not a host named "http" with the path /127.0.0.1:8080.
    ['one slash', 'http:/127.0.0.1:8080', 'relay URL "http:/127.0.0.1:8080" is malformed: write it as http://HOST:PORT'],
    ['three slashes', 'https:///relay.example.com', 'relay URL "https:///relay.example.com" is malformed: write it as https://HOST:PORT'],
    ['no slash', 'wss:relay.example.com', 'relay URL "wss:relay.example.com" is malformed: write it as wss://HOST:PORT'],
    ['no colon', 'http//127.0.0.1:8080', 'relay URL "http//127.0.0.1:8080" is malformed: write it as http://HOST:PORT'],
    // The relay serves its API at the root: a path would turn every request into a 404.
    ['a path', 'http://127.0.0.1:8080/foo', 'relay URL "http://127.0.0.1:8080/foo" has a path (/foo): a relay is addressed as http://HOST:PORT, with nothing after the port'],
    ['a path prefix', 'wss://example.com/tether/', 'relay URL "wss://example.com/tether/" has a path (/tether/): a relay is addressed as wss://HOST:PORT, with nothing after the port'],
    ['a query', 'relay.example.com:8080?x=1', 'relay URL "relay.example.com:8080?x=1" has a path (?x=1): a relay is addressed as http://HOST:PORT, with nothing after the port'],
  ];
  for (const [what, input, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => parseRelayUrl(input), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT) && err.message === message);
    });
  }
});

describe('parseHostPort', () => {
  const accepted: [input: string, host: string, port: number][] = [
    ['127.0.0.1:22', '127.0.0.1', 22],
    ['example.com:2222', 'example.com', 2222],
    ['[::1]:22', '::1', 22],
    ['[fe80::1]:65535', 'fe80::1', 65535],
    ['2222', '127.0.0.1', 2222],
    [':8022', '127.0.0.1', 8022],
    ['localhost:1', 'localhost', 1],
  ];
  for (const [input, host, port] of accepted) {
    test(`accepts ${input}`, () => {
      assert.deepEqual(parseHostPort(input), { host, port });
    });
  }

  test('a bare port takes the default host given', () => {
    assert.deepEqual(parseHostPort('2222', '0.0.0.0'), { host: '0.0.0.0', port: 2222 });
    assert.deepEqual(parseHostPort('10.0.0.1:2222', '0.0.0.0'), { host: '10.0.0.1', port: 2222 });
  });

  test('port 0 only where a listener may ask for any free port', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:0', '127.0.0.1', 0), { host: '127.0.0.1', port: 0 });
    assert.throws(() => parseHostPort('127.0.0.1:0', '127.0.0.1', 1), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
  });

  const refused: [what: string, input: string][] = [
    ['port 0', '127.0.0.1:0'],
    ['bare port 0', '0'],
    ['port 65536', '127.0.0.1:65536'],
    ['a six-digit port', '127.0.0.1:123456'],
    ['a port that is not a number', '127.0.0.1:abc'],
    ['a negative port', '127.0.0.1:-1'],
    ['a missing port', '127.0.0.1:'],
    ['a host without a port', 'example.com'],
    ['an unbracketed IPv6 address', '::1:22'],
    ['whitespace', ' 127.0.0.1:22'],
    ['an empty string', ''],
  ];
  for (const [what, input] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => parseHostPort(input), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
    });
  }
});
