import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode, HOST_RESUME_TIMEOUT_MS, isTetherError, ResumeDefaults } from '@tether/shared';
import { buildProgram } from '../cli/program.js';
import { PoolDefaults, resolvePoolTimings, type PoolTimings } from './pool-defaults.js';
import { readSettings, SettingKey } from './settings.js';

interface ContributedSetting {
  default: unknown;
  markdownDescription?: string;
}

/** The manifest's settings, read from extension/package.json (this file runs from dist/core). */
function contributed(): Record<string, ContributedSetting> {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, ContributedSetting> } };
  };
  return manifest.contributes.configuration.properties;
}

describe('one home for the defaults', () => {
  const settings: [key: string, value: number][] = [
    [SettingKey.failoverDetectMs, PoolDefaults.detectMs],
    [SettingKey.failoverFailbackDelayMs, PoolDefaults.failbackDelayMs],
    [SettingKey.failoverQueueTimeoutMs, PoolDefaults.queueTimeoutMs],
    [SettingKey.failoverReplayBufferBytes, ResumeDefaults.replayBufferBytes],
    [SettingKey.failoverResumeTimeoutMs, ResumeDefaults.resumeTimeoutMs],
  ];
  for (const [key, value] of settings) {
    test(`the manifest's default of tether.${key} is ${value}, and so is the setting's when unset`, () => {
      assert.equal(contributed()[`tether.${key}`]?.default, value);
      const { settings: read } = readSettings(() => undefined, { user: 'me', home: '/home/me' });
      const field = key.replace('failover.', '') as keyof typeof read.failover;
      assert.equal(read.failover[field], value);
    });
  }

  test("the manifest's pool size 0 means the pool's own sizes, as its description says", () => {
    const poolSize = contributed()[`tether.${SettingKey.failoverPoolSize}`];
    assert.equal(poolSize?.default, 0);
    assert.match(poolSize?.markdownDescription ?? '', new RegExp(`\\b${PoolDefaults.hostSize} while sharing, ${PoolDefaults.connectSize} while connecting\\b`));
  });

  const help: [flag: string, value: number][] = [
    ['--detect-ms', PoolDefaults.detectMs],
    ['--failback-ms', PoolDefaults.failbackDelayMs],
    ['--queue-timeout-ms', PoolDefaults.queueTimeoutMs],
    ['--replay-buffer', ResumeDefaults.replayBufferBytes],
    ['--resume-timeout-ms', ResumeDefaults.resumeTimeoutMs],
  ];
  for (const [flag, value] of help) {
    test(`the CLI help gives ${flag} its default ${value}`, () => {
      const usage = buildProgram().commands.find((c) => c.name() === 'share')?.helpInformation() ?? '';
      const from = usage.indexOf(flag);
      assert.ok(from >= 0, `${flag} is in the help`);
      assert.match(usage.slice(from, usage.indexOf(')', from) + 1).replace(/\s+/g, ' '), new RegExp(`default: ${value}\\)$`));
    });
  }

  test('a host waits longer for a resume than a connector tries', () => {
    assert.ok(HOST_RESUME_TIMEOUT_MS > ResumeDefaults.resumeTimeoutMs);
  });
});

describe('resolvePoolTimings', () => {
  test('fills in every default; the size never exceeds the endpoints', () => {
    assert.deepEqual(resolvePoolTimings('host', 9, {}), {
      size: PoolDefaults.hostSize,
      detectMs: PoolDefaults.detectMs,
      failbackDelayMs: PoolDefaults.failbackDelayMs,
      queueLimit: PoolDefaults.queueLimit,
      queueTimeoutMs: PoolDefaults.queueTimeoutMs,
      stableAfterMs: PoolDefaults.stableAfterMs,
      backoffBaseMs: PoolDefaults.backoffBaseMs,
      backoffMaxMs: PoolDefaults.backoffMaxMs,
    });
    assert.equal(resolvePoolTimings('connect', 9, {}).size, PoolDefaults.connectSize);
    assert.equal(resolvePoolTimings('host', 1, {}).size, 1);
    assert.equal(resolvePoolTimings('connect', 5, { size: 9 }).size, 5);
  });

  test('given values win, zero included where zero works', () => {
    const given = resolvePoolTimings('connect', 3, { size: 3, detectMs: 4, failbackDelayMs: 0, queueLimit: 0, queueTimeoutMs: 1, stableAfterMs: 0, backoff: { baseMs: 7, maxMs: 9 } });
    assert.deepEqual(given, { size: 3, detectMs: 4, failbackDelayMs: 0, queueLimit: 0, queueTimeoutMs: 1, stableAfterMs: 0, backoffBaseMs: 7, backoffMaxMs: 9 });
  });

  const bad: [what: string, options: PoolTimings, named: string][] = [
    ['size 0', { size: 0 }, 'size'],
    ['a fractional detectMs', { detectMs: 1.5 }, 'detectMs'],
    ['detectMs under 4 (no ping interval)', { detectMs: 3 }, 'detectMs'],
    ['a negative failbackDelayMs', { failbackDelayMs: -1 }, 'failbackDelayMs'],
    ['a negative queueLimit', { queueLimit: -1 }, 'queueLimit'],
    ['queueTimeoutMs 0', { queueTimeoutMs: 0 }, 'queueTimeoutMs'],
    ['a fractional stableAfterMs', { stableAfterMs: 0.5 }, 'stableAfterMs'],
  ];
  for (const [what, options, named] of bad) {
    test(`refuses ${what}, naming it`, () => {
      assert.throws(
        () => resolvePoolTimings('connect', 2, options),
        (err: unknown) => isTetherError(err, ErrorCode.INVALID_ARGUMENT) && err.message.startsWith(`${named} must be`),
      );
    });
  }
});
