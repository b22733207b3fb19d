import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { buildBundle, bundleText, type BundleInput } from './diagnostics-bundle.js';
import { REDACTED, redact, redactText } from './redact.js';

const TOKEN = 'tth_Zm9vYmFyYmF6cXV4cXV1eHh5enp5eHd2dXRzcnFwb25tbGtqaWhnZmVkY2Jh';
const OTHER_TOKEN = 'tth_c2Vjb25kLXRva2VuLWluLWEtbWVzc2FnZQ';
const ADMIN_TOKEN = 'admin-9f8e7d6c5b4a';
const INVITE = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJpbnZfMSIsInR1biI6ImxhcHRvcCJ9.c2lnbmF0dXJl';
const ACCESS = 'ya29.a0AfB_byC-access-token-value';

/** A builder: a bundle input with secrets in every place one could hide. */
function input(): BundleInput {
  return {
    createdAt: '2026-12-01T20:00:00.000Z',
    versions: { extension: '0.1.0', vscode: '1.100.3', os: 'linux 6.1', node: 'v20.20.0' },
    settings: {
      relayUrl: `https://relay.example/path?token=${TOKEN}&x=1`,
      relays: [{ url: `https://alice:${ADMIN_TOKEN}@relay2.example`, priority: 1 }, `https://relay3.example/?access_token=${ACCESS}`],
      adminToken: ADMIN_TOKEN,
      failover: { detectMs: 3000 },
      ssh: { user: 'root', identityFile: '/root/.ssh/id_ed25519', passphrase: 'hunter2-passphrase' },
      inviteCode: INVITE,
      logLevel: 'debug',
    },
    relay: 'https://relay.example',
    pools: [{
      label: 'connections', reason: 'preferred', live: 1, size: 2, queued: 0,
      relays: [{ url: 'https://relay.example', state: 'up', active: true, rttMs: 12.5, streams: 1, since: 0, lastError: { code: ErrorCode.UNAUTHORIZED, message: `token ${OTHER_TOKEN} was revoked` } }],
      rtt: { smoothedMs: 12.5, lastMs: 12, minMs: 11 },
    }],
    connections: [{ id: 'listener-1', tunnel: 'laptop', origin: '127.0.0.1:2222', relays: ['https://relay.example'], openStreams: 1, bytesIn: 10, bytesOut: 20, throughput: [{ at: 1, inBps: 1, outBps: 2 }] }],
    agents: [{ terminal: 't1', tunnel: 'laptop', requested: true, agent: 'ssh-agent', live: true }],
    events: [{ at: 1, kind: 'error', where: 'connections', text: `open vscode://tether-dev.tether/invite?code=${INVITE} failed`, code: ErrorCode.INVITE_INVALID }],
    errors: [{ at: 1, where: 'connections', code: ErrorCode.UNAUTHORIZED, message: `Authorization: Bearer ${TOKEN}`, advice: 'sign in again' }],
    secrets: [TOKEN],
  };
}

test('the bundle holds no token, admin token, invite code, access token or passphrase, wherever they were', () => {
  const text = bundleText(buildBundle(input()));
  for (const secret of [TOKEN, OTHER_TOKEN, ADMIN_TOKEN, INVITE, ACCESS, 'hunter2-passphrase', 'tth_']) {
    assert.ok(!text.includes(secret), `${secret} leaked into the bundle:\n${text}`);
  }
});

test('the bundle keeps what a bug report needs: versions, settings that are not secret, pools, codes, history', () => {
  const bundle = buildBundle(input());
  assert.equal(bundle.format, 'tether-diagnostics/1');
  assert.deepEqual(bundle.versions, input().versions);
  assert.equal(bundle.settings.logLevel, 'debug');
  assert.deepEqual(bundle.settings.failover, { detectMs: 3000 });
  assert.equal(bundle.settings.adminToken, REDACTED);
  assert.equal(bundle.settings.inviteCode, REDACTED);
  assert.equal(bundle.settings.relayUrl, `https://relay.example/path?token=${REDACTED}&x=${REDACTED}`);
  assert.deepEqual(bundle.settings.relays, [{ url: `https://${REDACTED}@relay2.example`, priority: 1 }, `https://relay3.example/?access_token=${REDACTED}`]);
  assert.deepEqual((bundle.settings.ssh as Record<string, unknown>).passphrase, REDACTED);
  assert.equal((bundle.settings.ssh as Record<string, unknown>).identityFile, '/root/.ssh/id_ed25519');
  assert.equal(bundle.relay, 'https://relay.example');
  assert.equal(bundle.pools[0].relays[0].rttMs, 12.5);
  // Error codes stay: they are what a maintainer searches for.
  assert.equal(bundle.errors[0].code, ErrorCode.UNAUTHORIZED);
  assert.equal(bundle.events[0].code, ErrorCode.INVITE_INVALID);
  assert.equal(bundle.connections[0].bytesOut, 20);
  assert.equal('throughput' in bundle.connections[0], false);
  assert.equal(bundle.agents[0].live, true);
});

test('redactText takes secrets out of free text and leaves the rest', () => {
  const cases: [string, string][] = [
    ['no secret here: relay 127.0.0.1:8080 lost', 'no secret here: relay 127.0.0.1:8080 lost'],
    [`token ${TOKEN} revoked`, `token ${REDACTED} revoked`],
    ['Authorization: Bearer abc.def-ghi', `Authorization: ${REDACTED}`],
    ['http://u:p@h:1/x?a=1&b', `http://${REDACTED}@h:1/x?a=${REDACTED}&b`],
    [`code ${INVITE}`, `code ${REDACTED}`],
  ];
  for (const [text, expected] of cases) assert.equal(redactText(text), expected, text);
  assert.equal(redactText('the token is s3cr3t-value', ['s3cr3t-value']), `the token is ${REDACTED}`);
});

test('redact replaces values under secret-like keys but keeps Tether error codes, empty values and non-strings', () => {
  assert.deepEqual(redact({ token: 'x', code: 'abc', errCode: 'y', password: '', secret: null, n: 1, list: [{ apiKey: 'k' }] }), {
    token: REDACTED, code: REDACTED, errCode: 'y', password: '', secret: null, n: 1, list: [{ apiKey: REDACTED }],
  });
  assert.deepEqual(redact({ code: ErrorCode.NO_RELAY }), { code: ErrorCode.NO_RELAY });
});
