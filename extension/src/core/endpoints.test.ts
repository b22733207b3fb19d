import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isTetherError } from '@tether/shared';
import { parseEndpoint, parseEndpoints, preferServing, type RelayEndpoint } from './endpoints.js';

const invalid = (err: unknown): boolean => isTetherError(err, ErrorCode.INVALID_ARGUMENT);

describe('parseEndpoint', () => {
  const accepted: [spec: string, index: number, expected: RelayEndpoint][] = [
    ['http://127.0.0.1:8080', 0, { url: 'http://127.0.0.1:8080', priority: 0, weight: 1 }],
    ['wss://relay.example.com', 3, { url: 'https://relay.example.com', priority: 3, weight: 1 }],
    ['https://a.example,priority=7', 0, { url: 'https://a.example', priority: 7, weight: 1 }],
    ['https://a.example,weight=3', 2, { url: 'https://a.example', priority: 2, weight: 3 }],
    ['https://a.example, weight=3 ,priority=0', 5, { url: 'https://a.example', priority: 0, weight: 3 }],
    ['  relay.example:9000  ', 1, { url: 'http://relay.example:9000', priority: 1, weight: 1 }],
  ];
  for (const [spec, index, expected] of accepted) {
    test(`accepts ${JSON.stringify(spec)}`, () => {
      assert.deepEqual(parseEndpoint(spec, index), expected);
    });
  }

  const refused: [what: string, spec: string, message: RegExp][] = [
    ['an empty spec', '', /missing URL/],
    ['no URL before the options', ',weight=2', /missing URL/],
    ['a bad URL', 'ftp://relay.example', /use http:\/\/, https:\/\/, ws:\/\/ or wss:\/\//],
    ['an unknown option', 'http://a.example,color=red', /priority=N or weight=N/],
    ['an option without a value sign', 'http://a.example,weight', /priority=N or weight=N/],
    ['weight 0', 'http://a.example,weight=0', /weight must be an integer from 1/],
    ['a negative priority', 'http://a.example,priority=-1', /priority must be an integer from 0/],
    ['a fractional weight', 'http://a.example,weight=1.5', /weight must be/],
    ['a huge weight', 'http://a.example,weight=99999999', /weight must be/],
    ['an empty weight', 'http://a.example,weight=', /weight must be/],
    ['an option given twice', 'http://a.example,weight=2,weight=3', /weight given twice/],
  ];
  for (const [what, spec, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => parseEndpoint(spec, 0), (err: unknown) => invalid(err) && message.test((err as Error).message));
    });
  }
});

describe('parseEndpoints', () => {
  test('the order given is the default priority', () => {
    assert.deepEqual(parseEndpoints(['http://a.example', 'http://b.example,weight=2', 'http://c.example,priority=0']), [
      { url: 'http://a.example', priority: 0, weight: 1 },
      { url: 'http://b.example', priority: 1, weight: 2 },
      { url: 'http://c.example', priority: 0, weight: 1 },
    ]);
  });

  test('refuses an empty list', () => {
    assert.throws(() => parseEndpoints([]), (err: unknown) => invalid(err) && /no relay/.test((err as Error).message));
  });

  test('refuses the same relay twice, even spelt differently', () => {
    assert.throws(
      () => parseEndpoints(['http://a.example:8080', 'ws://a.example:8080/,weight=2']),
      (err: unknown) => invalid(err) && /http:\/\/a\.example:8080 is listed twice/.test((err as Error).message),
    );
  });
});

test('preferServing puts the relays that serve the tunnel ahead of the rest, keeping the others in order', () => {
  const endpoints = parseEndpoints(['http://a:1', 'http://b:2', 'http://c:3,weight=3']);
  const preferred = preferServing(endpoints, ['http://c:3/', 'http://elsewhere:9']);
  assert.deepEqual(preferred.map((e) => [e.url, e.priority, e.weight]), [['http://a:1', 0, 1], ['http://b:2', 1, 1], ['http://c:3', -1, 3]]);
  assert.deepEqual(endpoints.map((e) => e.priority), [0, 1, 2], 'the input is not changed');
  assert.deepEqual(preferServing(endpoints, ['http://b:2', 'http://a:1']).map((e) => e.priority), [-1, -1, 2], 'several serving: equal, ahead of the rest');
});

test('preferServing without a usable hint leaves the endpoints as they were', () => {
  const endpoints = parseEndpoints(['http://a:1', 'http://b:2']);
  for (const hint of [undefined, [], ['http://x:1'], ['not a url', 'ftp://a:1']]) assert.deepEqual(preferServing(endpoints, hint), endpoints);
});
