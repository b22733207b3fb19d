import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseCount, parseDuration } from './duration.js';
import { formatError, UsageError } from './output.js';

describe('parseDuration', () => {
  const good: [string, number][] = [
    ['30s', 30_000], ['15m', 900_000], ['2h', 7_200_000], ['7d', 604_800_000],
    ['1h30m', 5_400_000], ['1d12h', 129_600_000], ['1d2h3m4s', 93_784_000], [' 2H ', 7_200_000], ['90m', 5_400_000],
  ];
  for (const [text, ms] of good) test(`${JSON.stringify(text)} → ${ms} ms`, () => assert.equal(parseDuration(text, '--for'), ms));

  // A bare number, milliseconds, a unit twice or out of order, zero, a sign, a space inside.
  for (const text of ['', '30', '5x', '1.5h', '-1h', '0s', '0h0m', '30m1h', '1h1h', '1h 30m', 'ms', '5ms', 'h', 'never', '9999999999d']) {
    test(`${JSON.stringify(text)} is a usage error naming the flag`, () => {
      assert.throws(() => parseDuration(text, '--expires'), (err) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.message, `--expires must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got ${JSON.stringify(text)}`);
        // As main.ts prints it once the action names its command: one line, then the pointer.
        err.command = 'invite create';
        assert.equal(formatError(err), `tether: ${err.message}\nRun 'tether help invite create' for usage.`);
        return true;
      });
    });
  }
});

describe('formatDuration', () => {
  for (const [ms, text] of [[5_400_000, '1h30m'], [28_800_000, '8h'], [604_800_000, '7d'], [1000, '1s'], [0, '0s'], [93_784_000, '1d2h3m4s']] as const) {
    test(`${ms} → ${text}, which parseDuration reads back`, () => {
      assert.equal(formatDuration(ms), text);
      if (ms > 0) assert.equal(parseDuration(text, '--for'), ms);
    });
  }
});

describe('parseCount', () => {
  test('whole numbers in range', () => {
    assert.equal(parseCount('1', '--uses', 1, 1000), 1);
    assert.equal(parseCount('1000', '--uses', 1, 1000), 1000);
  });
  for (const text of ['0', '1001', '1e3', ' 5', '5.0', '-1', '', 'ten']) {
    test(`${JSON.stringify(text)} is a usage error`, () => {
      assert.throws(() => parseCount(text, '--uses', 1, 1000), { name: 'UsageError', message: `--uses must be a whole number from 1 to 1000, got ${JSON.stringify(text)}` });
    });
  }
});
