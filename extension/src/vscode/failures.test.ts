import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createError, ErrorCode } from '@tether/shared';
import { describeFailure, type FailureAction } from './failures.js';

describe('describeFailure', () => {
  const cases: [what: string, err: unknown, canRetry: boolean, actions: FailureAction[]][] = [
    ['a refused token', createError(ErrorCode.UNAUTHORIZED, 'the relay refused the token'), true, ['Sign In', 'Show Log']],
    ['an unreachable relay', createError(ErrorCode.RELAY_UNREACHABLE, 'cannot reach relay'), true, ['Retry', 'Show Log']],
    ['a relay URL that is not a relay (Retry would ask the same URL again)', createError(ErrorCode.RELAY_REJECTED, 'x is not a Tether relay'), true, ['Sign In', 'Show Log']],
    ['an unknown tunnel', createError(ErrorCode.TUNNEL_UNKNOWN, 'no tunnel x'), true, ['Retry', 'Show Log']],
    ['a forbidden tunnel', createError(ErrorCode.TUNNEL_FORBIDDEN, 'not yours'), true, ['Retry', 'Show Log']],
    ['a port in use', createError(ErrorCode.INVALID_ARGUMENT, 'address already in use'), true, ['Retry', 'Show Log']],
    ['a refused target', createError(ErrorCode.TARGET_REFUSED, 'refused'), true, ['Retry', 'Show Log']],
    ['a bad tunnel name', createError(ErrorCode.INVALID_TUNNEL_NAME, 'bad'), true, ['Show Log']],
    ['a used-up invite (the same code fails the same way)', createError(ErrorCode.INVITE_USED_UP, 'used up'), true, ['Show Log']],
    ['an expired invite', createError(ErrorCode.INVITE_EXPIRED, 'expired'), true, ['Show Log']],
    ['a failure that cannot be retried', createError(ErrorCode.RELAY_UNREACHABLE, 'down'), false, ['Show Log']],
    ['a plain error', new Error('boom'), true, ['Retry', 'Show Log']],
    ['a thrown string', 'boom', true, ['Retry', 'Show Log']],
  ];
  for (const [what, err, canRetry, actions] of cases) {
    test(what, () => assert.deepEqual(describeFailure(err, 'Doing it', canRetry).actions, actions));
  }

  test('the message names what failed, why and the code', () => {
    const advice = describeFailure(createError(ErrorCode.UNAUTHORIZED, 'the relay refused the token.'), 'Sign-in', true);
    assert.equal(advice.message, 'Sign-in failed: the relay refused the token [TETHER_ERR_UNAUTHORIZED]');
    assert.equal(advice.code, ErrorCode.UNAUTHORIZED);
    assert.equal(describeFailure(new Error('boom'), 'X', true).message, 'X failed: boom');
  });
});
