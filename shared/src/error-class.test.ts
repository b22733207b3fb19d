/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify, isPathFailure, isRefusal, isResumeRefusal, isRetryable, type ErrorClass } from './error-class.js';
import { createError, ErrorCode, isErrorCode, WireCode, type ErrorCodeName, type WireCodeName } from './errors.js';

/** What each code means, written out by hand: the table under test must agree with it. */
const expected: Record<ErrorCodeName, ErrorClass> = {
  PROTOCOL_ERROR: 'final',
  FRAME_TOO_LARGE: 'final',
  FRAME_INVALID: 'final',
  FRAME_TRUNCATED: 'final',
  UNKNOWN_FRAME_TYPE: 'final',
  UNKNOWN_STREAM: 'final',
  FLOW_CONTROL: 'final',
  STREAM_LIMIT: 'final',
  BUFFER_LIMIT: 'final',
  TUNNEL_UNKNOWN: 'refusal',
  TUNNEL_FORBIDDEN: 'refusal',
  TUNNEL_OFFLINE: 'retryable',
  QUOTA_EXCEEDED: 'retryable',
  TUNNEL_IN_USE: 'final',
  INVALID_TUNNEL_NAME: 'refusal',
  TARGET_REFUSED: 'final',
  TARGET_UNREACHABLE: 'final',
  TIMEOUT: 'path-failure',
  GOING_AWAY: 'path-failure',
  CANCELLED: 'final',
  PEER_GONE: 'path-failure',
  INTERNAL: 'final',
  STREAM_MOVED: 'moved',
  RESUME_UNKNOWN: 'resume-refusal',
  RESUME_SECRET: 'resume-refusal',
  RESUME_OFFSET: 'resume-refusal',
  RESUME_TIMEOUT: 'final',
  QUEUE_FULL: 'retryable',
  NO_RELAY: 'retryable',
  UNAUTHORIZED: 'refusal',
  FORBIDDEN: 'refusal',
  UNSUPPORTED_VERSION: 'refusal',
  RELAY_UNREACHABLE: 'retryable',
  RELAY_REJECTED: 'final',
  CONNECTION_LOST: 'path-failure',
  STREAM_CLOSED: 'final',
  INVALID_ARGUMENT: 'final',
  INVALID_CONFIG: 'final',
  ADDRESS_IN_USE: 'final',
  USER_EXISTS: 'final',
  NOT_FOUND: 'final',
  HOST_KEY_UNKNOWN: 'final',
  HOST_KEY_CHANGED: 'final',
  SSH_AUTH_FAILED: 'final',
  SSH_CONNECT_FAILED: 'final',
  IDENTITY_UNREADABLE: 'final',
  SERVICE_FAILED: 'final',
  PDF_RENDER_FAILED: 'final',
  STORE_UNAVAILABLE: 'retryable',
  RATE_LIMITED: 'retryable',
  INVITE_INVALID: 'refusal',
  INVITE_REVOKED: 'refusal',
  INVITE_EXPIRED: 'refusal',
  INVITE_USED_UP: 'refusal',
  INVITE_NOT_FOR_YOU: 'refusal',
  REQUEST_CLOSED: 'final',
  REVIEW_REFUSED: 'refusal',
  PROTOCOL_NOT_ALLOWED: 'refusal',
  FLOW_LIMIT: 'retryable',
  TUNNEL_DISABLED: 'refusal',
  USER_BLOCKED: 'refusal',
};

/** The helpers each class answers yes to. */
const helpers: Record<ErrorClass, { retryable: boolean; pathFailure: boolean; refusal: boolean; resumeRefusal: boolean }> = {
  retryable: { retryable: true, pathFailure: false, refusal: false, resumeRefusal: false },
  'path-failure': { retryable: true, pathFailure: true, refusal: false, resumeRefusal: false },
  moved: { retryable: false, pathFailure: true, refusal: false, resumeRefusal: false },
  refusal: { retryable: false, pathFailure: false, refusal: true, resumeRefusal: false },
  'resume-refusal': { retryable: false, pathFailure: false, refusal: false, resumeRefusal: true },
  final: { retryable: false, pathFailure: false, refusal: false, resumeRefusal: false },
};

describe('classify', () => {
  for (const name of Object.keys(ErrorCode) as ErrorCodeName[]) {
    const code = ErrorCode[name];
    const kind = expected[name];
    test(`${code} is ${kind}`, () => {
      assert.equal(classify(code), kind);
      const err = createError(code, 'x');
      assert.deepEqual(
        { retryable: isRetryable(err), pathFailure: isPathFailure(err), refusal: isRefusal(err), resumeRefusal: isResumeRefusal(err) },
        helpers[kind],
      );
      assert.equal(err.retryable, helpers[kind].retryable, 'TetherError.retryable reads the same table');
    });
  }

  test('a wire code arriving from a peer is classified like its string code', () => {
    for (const name of Object.keys(WireCode) as WireCodeName[]) {
      if (name === 'NO_ERROR') continue;
      assert.equal(classify(ErrorCode[name]), expected[name], name);
    }
  });

  const strangers: { name: string; code: string }[] = [
    { name: 'a code a newer peer may send', code: 'TETHER_ERR_SOMETHING_NEW' },
    { name: 'a resume-looking code that is not one', code: 'TETHER_ERR_RESUME_LATER' },
    { name: 'an errno', code: 'ECONNRESET' },
    { name: 'the empty string', code: '' },
  ];
  for (const s of strangers) {
    test(`${s.name} is final and nothing else`, () => {
      assert.equal(classify(s.code), 'final');
      const coded = { code: s.code };
      assert.deepEqual([isRetryable(coded), isPathFailure(coded), isRefusal(coded), isResumeRefusal(coded)], [false, false, false, false]);
    });
  }

  test('no error is nothing', () => {
    assert.deepEqual([isRetryable(undefined), isPathFailure(undefined), isRefusal(undefined), isResumeRefusal(undefined)], [false, false, false, false]);
  });
});

describe('isErrorCode', () => {
  const cases: { name: string; value: unknown; expected: boolean }[] = [
    ...Object.values(ErrorCode).map((code) => ({ name: code, value: code, expected: true })),
    { name: 'an unknown TETHER_ERR_ code', value: 'TETHER_ERR_NOPE', expected: false },
    { name: 'the bare prefix', value: 'TETHER_ERR_', expected: false },
    { name: 'a lower-case code', value: 'tether_err_timeout', expected: false },
    { name: 'a code name without its prefix', value: 'TIMEOUT', expected: false },
    { name: 'a number', value: 14, expected: false },
    { name: 'undefined', value: undefined, expected: false },
    { name: 'an object', value: { code: ErrorCode.TIMEOUT }, expected: false },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.expected}`, () => {
      assert.equal(isErrorCode(c.value), c.expected);
    });
  }
});
