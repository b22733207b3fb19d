import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { loadRateLimits } from './rate-limit-file.js';

test('--rate-limits: off, a JSON file, or a coded error saying what is wrong with the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-rate-limits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(loadRateLimits(undefined), undefined);
  assert.equal(loadRateLimits('off'), false);
  const good = join(dir, 'limits.json');
  writeFileSync(good, '{"opens":{"perTunnel":{"rate":10,"periodMs":1000,"burst":20}}}');
  assert.deepEqual(loadRateLimits(good), { opens: { perTunnel: { rate: 10, periodMs: 1000, burst: 20 } } });
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"opens": ');
  assert.throws(() => loadRateLimits(bad), (err: Error & { code?: string }) => err.code === ErrorCode.INVALID_CONFIG && /is not JSON/.test(err.message));
  assert.throws(() => loadRateLimits(join(dir, 'missing.json')), (err: Error & { code?: string }) => err.code === ErrorCode.INVALID_CONFIG && /no such file/.test(err.message));
});
