/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CloseCode,
  createError,
  ErrorCode,
  errorFromWire,
  isTetherError,
  TetherError,
  WireCode,
  type ErrorCodeName,
  type WireCodeName,
} from './errors.js';

const wireNames = Object.keys(WireCode) as WireCodeName[];
const errorNames = Object.keys(ErrorCode) as ErrorCodeName[];

describe('code tables', () => {
  test('wire codes are distinct u16 values numbered from 0 without gaps', () => {
    const values = Object.values(WireCode).sort((x, y) => x - y);
    assert.deepEqual(values, values.map((_, i) => i));
    assert.ok(values.every((v) => v <= 0xffff));
  });

  test('string codes are distinct and spelled TETHER_ERR_*', () => {
    const values = Object.values(ErrorCode);
    assert.equal(new Set(values).size, values.length);
    for (const v of values) assert.match(v, /^TETHER_ERR_[A-Z_]+$/);
  });

  test('every wire code but NO_ERROR has a string code of the same name', () => {
    for (const name of wireNames) {
      if (name === 'NO_ERROR') continue;
      assert.ok(name in ErrorCode, `${name} has no string code`);
    }
  });
});

describe('errorFromWire', () => {
  for (const name of wireNames.filter((n) => n !== 'NO_ERROR')) {
    test(`${WireCode[name]} → ${ErrorCode[name as ErrorCodeName]}`, () => {
      const err = errorFromWire(WireCode[name], 'why');
      assert.ok(err instanceof TetherError);
      assert.equal(err.code, ErrorCode[name as ErrorCodeName]);
      assert.equal(err.message, 'why');
      assert.equal(err.wireCode, WireCode[name], 'wire code survives the round trip');
    });
  }

  const unknown: { name: string; wire: number }[] = [
    { name: 'NO_ERROR used as an error', wire: WireCode.NO_ERROR },
    { name: 'first unassigned code', wire: Math.max(...Object.values(WireCode)) + 1 },
    { name: 'largest u16', wire: 0xffff },
  ];
  for (const c of unknown) {
    test(`${c.name} (${c.wire}) → PROTOCOL_ERROR`, () => {
      const err = errorFromWire(c.wire, '');
      assert.equal(err.code, ErrorCode.PROTOCOL_ERROR);
      assert.ok(err.message.length > 0, 'an empty reason still yields a message');
    });
  }

  test('an empty reason is replaced by a readable default', () => {
    assert.equal(errorFromWire(WireCode.TARGET_REFUSED, '').message, 'target refused');
  });
});

describe('retryable', () => {
  const retryable = new Set<ErrorCodeName>(['RELAY_UNREACHABLE', 'CONNECTION_LOST', 'GOING_AWAY', 'TUNNEL_OFFLINE', 'TIMEOUT', 'PEER_GONE', 'NO_RELAY', 'QUEUE_FULL', 'QUOTA_EXCEEDED', 'STORE_UNAVAILABLE', 'RATE_LIMITED', 'FLOW_LIMIT']);
  for (const name of errorNames) {
    const expected = retryable.has(name);
    test(`${ErrorCode[name]} is ${expected ? '' : 'not '}retryable`, () => {
      assert.equal(createError(ErrorCode[name], 'x').retryable, expected);
    });
  }
});

describe('TetherError', () => {
  test('codes with no wire form go on the wire as INTERNAL', () => {
    const local: ErrorCodeName[] = errorNames.filter((n) => !(n in WireCode));
    assert.ok(local.includes('UNAUTHORIZED'));
    for (const name of local) assert.equal(createError(ErrorCode[name], 'x').wireCode, WireCode.INTERNAL, name);
  });

  test('close code defaults to 1002 and can be set', () => {
    assert.equal(createError(ErrorCode.FRAME_INVALID, 'x').closeCode, CloseCode.PROTOCOL_ERROR);
    assert.equal(createError(ErrorCode.FRAME_TOO_LARGE, 'x', CloseCode.MESSAGE_TOO_BIG).closeCode, 1009);
  });

  test('is an Error with a stable name', () => {
    const err = createError(ErrorCode.TIMEOUT, 'slow');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TetherError');
    assert.equal(err.message, 'slow');
  });

  const guards: { name: string; value: unknown; code?: (typeof ErrorCode)[ErrorCodeName]; expected: boolean }[] = [
    { name: 'a TetherError', value: createError(ErrorCode.TIMEOUT, 'x'), expected: true },
    { name: 'a TetherError with the asked code', value: createError(ErrorCode.TIMEOUT, 'x'), code: ErrorCode.TIMEOUT, expected: true },
    { name: 'a TetherError with another code', value: createError(ErrorCode.TIMEOUT, 'x'), code: ErrorCode.CANCELLED, expected: false },
    { name: 'a plain Error', value: new Error('x'), expected: false },
    { name: 'a look-alike object', value: { code: ErrorCode.TIMEOUT, message: 'x' }, expected: false },
    { name: 'undefined', value: undefined, expected: false },
  ];
  for (const g of guards) {
    test(`isTetherError: ${g.name}`, () => {
      assert.equal(isTetherError(g.value, g.code), g.expected);
    });
  }
});
