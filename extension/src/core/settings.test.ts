import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandHome, logLevelEnabled, readSettings, relayClientOptions } from './settings.js';

const env = { home: '/home/alice', user: 'alice' };
const FAILOVER_DEFAULTS = { poolSize: undefined, detectMs: 3000, failbackDelayMs: 10_000, queueTimeoutMs: 10_000, replayBufferBytes: 8 * 1024 * 1024, resumeTimeoutMs: 30_000 };
const read = (values: Record<string, unknown>) => readSettings((key) => values[key], env);

describe('readSettings', () => {
  test('defaults when nothing is set', () => {
    const { settings, problems } = read({});
    assert.deepEqual(settings, {
      relayUrls: [],
      relays: [],
      failover: FAILOVER_DEFAULTS,
      sshUser: 'alice',
      sshUserSet: false,
      sshTargetPort: 22,
      identityFile: undefined,
      agent: { type: 'auto', forward: false, socketPath: undefined, timeoutMs: 30_000 },
      logLevel: 'info',
      startupShares: [],
    });
    assert.deepEqual(problems, []);
  });

  test('takes valid values', () => {
    const { settings, problems } = read({
      relayUrl: 'wss://relay.example.com',
      relayUrls: ['http://127.0.0.1:8080/', 'https://relay.example.com'],
      'ssh.user': 'root',
      'ssh.targetPort': 2222,
      'ssh.identityFile': '~/.ssh/id_ed25519',
      logLevel: 'debug',
    });
    assert.deepEqual(problems, []);
    // relayUrl comes first; the list is normalized to the http form and deduplicated.
    assert.deepEqual(settings.relayUrls, ['https://relay.example.com', 'http://127.0.0.1:8080']);
    assert.equal(settings.sshUser, 'root');
    assert.equal(settings.sshUserSet, true);
    assert.equal(settings.sshTargetPort, 2222);
    assert.equal(settings.identityFile, '/home/alice/.ssh/id_ed25519');
    assert.equal(settings.logLevel, 'debug');
  });

  test('an empty relayUrl and identity file mean unset', () => {
    const { settings, problems } = read({ relayUrl: '', 'ssh.identityFile': '  ', 'ssh.user': '' });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.relayUrls, []);
    assert.equal(settings.identityFile, undefined);
    assert.equal(settings.sshUser, 'alice');
    assert.equal(settings.sshUserSet, false);
  });

  const bad: [what: string, values: Record<string, unknown>, key: string, field: string, fallback: unknown][] = [
    ['a relay URL with credentials', { relayUrl: 'http://a:b@relay' }, 'tether.relayUrl', 'relayUrls', []],
    ['an ftp relay URL in the list', { relayUrls: ['ftp://relay'] }, 'tether.relayUrls', 'relayUrls', []],
    ['a number in the relay list', { relayUrls: [8080] }, 'tether.relayUrls', 'relayUrls', []],
    ['a relay list that is a string', { relayUrls: 'http://relay' }, 'tether.relayUrls', 'relayUrls', []],
    ['a relay list that is a string', { relays: 'http://relay' }, 'tether.relays', 'relays', []],
    ['a relay with weight 0', { relays: ['http://relay,weight=0'] }, 'tether.relays', 'relays', []],
    ['a relay that is an object', { relays: [{ url: 'http://relay' }] }, 'tether.relays', 'relays', []],
    ['a relay without a scheme ("garbage")', { relays: ['garbage'] }, 'tether.relays', 'relays', []],
    ['a relay without a scheme, with a weight', { relays: ['relay.example:8080,weight=2'] }, 'tether.relays', 'relays', []],
    ['a relay URL without a scheme', { relayUrl: 'relay.example' }, 'tether.relayUrl', 'relayUrls', []],
    ['a pool size of 17', { 'failover.poolSize': 17 }, 'tether.failover.poolSize', 'failover', FAILOVER_DEFAULTS],
    ['a detectMs of 10', { 'failover.detectMs': 10 }, 'tether.failover.detectMs', 'failover', FAILOVER_DEFAULTS],
    ['a failback delay as a string', { 'failover.failbackDelayMs': '5000' }, 'tether.failover.failbackDelayMs', 'failover', FAILOVER_DEFAULTS],
    ['a fractional queue timeout', { 'failover.queueTimeoutMs': 1000.5 }, 'tether.failover.queueTimeoutMs', 'failover', FAILOVER_DEFAULTS],
    ['a replay buffer below 64 KiB', { 'failover.replayBufferBytes': 65_535 }, 'tether.failover.replayBufferBytes', 'failover', FAILOVER_DEFAULTS],
    ['a replay buffer above 256 MiB', { 'failover.replayBufferBytes': 256 * 1024 * 1024 + 1 }, 'tether.failover.replayBufferBytes', 'failover', FAILOVER_DEFAULTS],
    ['a resume timeout of 99 ms', { 'failover.resumeTimeoutMs': 99 }, 'tether.failover.resumeTimeoutMs', 'failover', FAILOVER_DEFAULTS],
    ['a resume timeout as a string', { 'failover.resumeTimeoutMs': '30000' }, 'tether.failover.resumeTimeoutMs', 'failover', FAILOVER_DEFAULTS],
    ['a user with a space', { 'ssh.user': 'bad user' }, 'tether.ssh.user', 'sshUser', 'alice'],
    ['a user starting with -', { 'ssh.user': '-oProxyCommand=x' }, 'tether.ssh.user', 'sshUser', 'alice'],
    ['port 0', { 'ssh.targetPort': 0 }, 'tether.ssh.targetPort', 'sshTargetPort', 22],
    ['port 65536', { 'ssh.targetPort': 65536 }, 'tether.ssh.targetPort', 'sshTargetPort', 22],
    ['a fractional port', { 'ssh.targetPort': 22.5 }, 'tether.ssh.targetPort', 'sshTargetPort', 22],
    ['a port as a string', { 'ssh.targetPort': '22' }, 'tether.ssh.targetPort', 'sshTargetPort', 22],
    ['an identity file that is a number', { 'ssh.identityFile': 1 }, 'tether.ssh.identityFile', 'identityFile', undefined],
    ['an unknown log level', { logLevel: 'verbose' }, 'tether.logLevel', 'logLevel', 'info'],
  ];
  for (const [what, values, key, field, fallback] of bad) {
    test(`reports ${what} and uses the default`, () => {
      const { settings, problems } = read(values);
      assert.deepEqual(problems.map((p) => p.key), [key]);
      assert.deepEqual(settings[field as keyof typeof settings], fallback);
    });
  }

  test('takes relay endpoints and failover tuning', () => {
    const { settings, problems } = read({
      relays: ['https://a.example', 'wss://b.example,weight=3', 'http://c.example,priority=0'],
      'failover.poolSize': 3,
      'failover.detectMs': 1500,
      'failover.failbackDelayMs': 0,
      'failover.queueTimeoutMs': 2000,
      'failover.replayBufferBytes': 65_536,
      'failover.resumeTimeoutMs': 600_000,
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.relays, [
      { url: 'https://a.example', priority: 0, weight: 1 },
      { url: 'https://b.example', priority: 1, weight: 3 },
      { url: 'http://c.example', priority: 0, weight: 1 },
    ]);
    assert.deepEqual(settings.failover, { poolSize: 3, detectMs: 1500, failbackDelayMs: 0, queueTimeoutMs: 2000, replayBufferBytes: 65_536, resumeTimeoutMs: 600_000 });
    assert.equal(read({ 'failover.poolSize': 0 }).settings.failover.poolSize, undefined);
  });

  test('keeps the good relay endpoints when one is bad or repeated', () => {
    const { settings, problems } = read({ relays: ['http://a.example', 'ftp://b.example', 'http://a.example/,weight=2', 'http://c.example'] });
    assert.deepEqual(settings.relays.map((e) => [e.url, e.priority]), [['http://a.example', 0], ['http://c.example', 3]]);
    assert.deepEqual(problems.map((p) => p.key), ['tether.relays', 'tether.relays']);
    assert.match(problems[1].message, /http:\/\/a\.example is listed twice/);
  });

  test('keeps the good relays when one is bad', () => {
    const { settings, problems } = read({ relayUrls: ['http://good:1', 'gopher://bad', 'http://good:1/'] });
    assert.deepEqual(settings.relayUrls, ['http://good:1']);
    assert.equal(problems.length, 1);
  });
});

describe('relayClientOptions', () => {
  const SIGNED_IN = 'https://home.example';
  const optionsFor = (values: Record<string, unknown>) => relayClientOptions(read(values).settings, SIGNED_IN);

  test('no tether.relays: the signed-in relay alone, default tuning', () => {
    assert.deepEqual(optionsFor({}), {
      endpoints: [{ url: SIGNED_IN, priority: 0, weight: 1 }],
      pool: { detectMs: 3000, failbackDelayMs: 10_000, queueTimeoutMs: 10_000, backoff: { maxMs: 10_000 } },
      resumable: { replayBufferBytes: 8 * 1024 * 1024, resumeTimeoutMs: 30_000 },
    });
  });

  test('a list that names the signed-in relay is used as it is', () => {
    const { endpoints } = optionsFor({ relays: ['https://a.example', 'https://home.example/,weight=2'] });
    assert.deepEqual(endpoints, [
      { url: 'https://a.example', priority: 0, weight: 1 },
      { url: SIGNED_IN, priority: 1, weight: 2 },
    ]);
  });

  test('a list without the signed-in relay gets it last, one priority below the least preferred', () => {
    const { endpoints } = optionsFor({ relays: ['https://a.example,priority=5', 'https://b.example'] });
    assert.deepEqual(endpoints.map((e) => [e.url, e.priority]), [['https://a.example', 5], ['https://b.example', 1], [SIGNED_IN, 6]]);
  });

  test('pool size, timings and stream options come from tether.failover.*', () => {
    const { pool, resumable } = optionsFor({ 'failover.poolSize': 2, 'failover.detectMs': 900, 'failover.replayBufferBytes': 1 << 20, 'failover.resumeTimeoutMs': 5000 });
    assert.deepEqual(pool, { size: 2, detectMs: 900, failbackDelayMs: 10_000, queueTimeoutMs: 10_000, backoff: { maxMs: 10_000 } });
    assert.deepEqual(resumable, { replayBufferBytes: 1 << 20, resumeTimeoutMs: 5000 });
  });

  test('the settings are not changed by it', () => {
    const { settings } = read({ relays: ['https://a.example'] });
    relayClientOptions(settings, SIGNED_IN).endpoints[0].priority = 9;
    assert.deepEqual(settings.relays, [{ url: 'https://a.example', priority: 0, weight: 1 }]);
  });
});

describe('expandHome', () => {
  const cases: [input: string, expected: string][] = [
    ['~', '/home/alice'],
    ['~/.ssh/key', '/home/alice/.ssh/key'],
    ['/etc/key', '/etc/key'],
    ['~bob/key', '~bob/key'],
    ['relative/key', 'relative/key'],
  ];
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => assert.equal(expandHome(input, '/home/alice'), expected));
});

describe('logLevelEnabled', () => {
  const cases: [level: 'trace' | 'info' | 'error', threshold: 'trace' | 'info' | 'warn' | 'off', expected: boolean][] = [
    ['info', 'info', true],
    ['trace', 'info', false],
    ['error', 'warn', true],
    ['info', 'warn', false],
    ['trace', 'trace', true],
    ['error', 'off', false],
  ];
  for (const [level, threshold, expected] of cases) {
    test(`${level} at threshold ${threshold}: ${expected}`, () => assert.equal(logLevelEnabled(level, threshold), expected));
  }
});

describe('agent settings (tether.agent.*)', () => {
  test('valid values are taken, ~ expanded', () => {
    const { settings, problems } = read({ 'agent.type': 'gpg-agent', 'agent.forward': true, 'agent.socketPath': '~/.gnupg/S.gpg-agent.ssh', 'agent.timeout': 5000 });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.agent, { type: 'gpg-agent', forward: true, socketPath: `${env.home}/.gnupg/S.gpg-agent.ssh`, timeoutMs: 5000 });
  });

  const bad: [key: string, value: unknown][] = [
    ['agent.type', 'putty'],
    ['agent.type', 3],
    ['agent.forward', 'yes'],
    ['agent.socketPath', 42],
    ['agent.timeout', 0],
    ['agent.timeout', 1.5],
    ['agent.timeout', 3_600_000],
  ];
  for (const [key, value] of bad) {
    test(`tether.${key} = ${JSON.stringify(value)} is reported and the default kept`, () => {
      const { settings, problems } = read({ [key]: value });
      assert.deepEqual(problems.map((p) => p.key), [`tether.${key}`]);
      assert.deepEqual(settings.agent, { type: 'auto', forward: false, socketPath: undefined, timeoutMs: 30_000 });
    });
  }
});

describe('tether.shareOnStartup in readSettings', () => {
  test('a name shares the SSH server on tether.ssh.targetPort; bad entries are reported and left out', () => {
    const { settings, problems } = read({ 'ssh.targetPort': 2222, shareOnStartup: ['laptop', { name: 'web', port: 8080 }, { name: 'Bad Name' }] });
    assert.deepEqual(settings.startupShares, [
      { name: 'laptop', host: '127.0.0.1', port: 2222 },
      { name: 'web', host: '127.0.0.1', port: 8080 },
    ]);
    assert.deepEqual(problems.map((p) => p.key), ['tether.shareOnStartup']);
  });
});
