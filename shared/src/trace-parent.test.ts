/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTraceparent, parseTraceparent } from './trace-parent.js';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  test('reads version 00 and formats it back', () => {
    const parent = parseTraceparent(TRACE);
    assert.deepEqual(parent, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
    assert.equal(formatTraceparent(parent), TRACE);
  });

  test('reads a later version by its first four fields', () => {
    assert.deepEqual(parseTraceparent(`cc-${TRACE.slice(3)}-more`), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
  });

  const bad: [string, string | undefined][] = [
    ['nothing', undefined],
    ['empty', ''],
    ['upper case', TRACE.toUpperCase()],
    ['version ff', `ff${TRACE.slice(2)}`],
    ['version 00 with a fifth field', `${TRACE}-x`],
    ['a zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['a zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['too long', `01-${TRACE.slice(3)}-${'x'.repeat(600)}`],
  ];
  for (const [name, value] of bad) {
    test(`ignores ${name}`, () => {
      assert.equal(parseTraceparent(value), undefined);
    });
  }
});
