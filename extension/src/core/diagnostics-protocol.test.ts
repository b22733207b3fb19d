import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { adviceFor } from './diagnostics-advice.js';
import { readDiagnosticsMessage } from './diagnostics-protocol.js';

test('readDiagnosticsMessage takes the panel requests and drops anything else', () => {
  for (const type of ['ready', 'export', 'clear']) assert.deepEqual(readDiagnosticsMessage({ type }), { type });
  for (const bad of [null, 'ready', [], {}, { type: 'ready', extra: 1 }, { type: 'eval' }, { type: 1 }]) assert.equal(readDiagnosticsMessage(bad), undefined, JSON.stringify(bad));
});

test('adviceFor says what to do: a sentence for common codes, one by class for the rest', () => {
  assert.match(adviceFor(ErrorCode.UNAUTHORIZED), /sign in again/);
  assert.match(adviceFor(ErrorCode.TARGET_REFUSED), /Nothing listens/);
  assert.match(adviceFor(ErrorCode.PEER_GONE), /resumable streams move/);
  assert.match(adviceFor('TETHER_ERR_NOT_A_CODE'), /Tether log/);
});
