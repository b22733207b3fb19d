// What a user sees when something is wrong, with every party a real process: one line
// `tether: <message> [TETHER_ERR_CODE]` on stderr and exit status 1.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createUser, HANG_GUARD, freePort, Processes, requirePrograms, ssh, startRelay, startShare, startSshd, tempDir, tether,
} from './fixtures.mjs';

/** The CLI's error line, anywhere in `stderr` (ssh adds its own lines around it). */
function errorLine(code) {
  return new RegExp(`^tether: .+ \\[${code}\\]$`, 'm');
}

describe('ssh ProxyCommand errors', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let relay;
  let token;
  let sshd;

  before(async () => {
    requirePrograms();
    sshd = await startSshd(procs, tmp.path);
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'bob');
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  const cases = [
    { name: 'an unknown tunnel', tunnel: 'no-such-tunnel', token: () => token, code: 'TETHER_ERR_TUNNEL_UNKNOWN' },
    { name: 'a wrong token', tunnel: 'no-such-tunnel', token: () => 'not-a-valid-token-0123456789', code: 'TETHER_ERR_UNAUTHORIZED' },
    { name: 'an invalid tunnel name', tunnel: 'Not_Valid', token: () => token, code: 'TETHER_ERR_INVALID_TUNNEL_NAME' },
  ];
  for (const c of cases) {
    test(`${c.name}: ssh fails and shows ${c.code}`, async () => {
      const r = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: c.tunnel, relay: relay.url, token: c.token() }, 'echo unreachable');
      assert.equal(r.code, 255, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, errorLine(c.code));
    });
  }

  test('a tunnel whose `tether share` stopped: ssh fails with TETHER_ERR_TUNNEL_OFFLINE', async () => {
    const tunnel = 'e2e-stopping';
    const share = await startShare(procs, { url: relay.url, token, tunnel, targetPort: sshd.port });
    const through = { port: sshd.port, key: sshd.key, proxyTunnel: tunnel, relay: relay.url, token };
    const before = await ssh(through, 'echo up');
    assert.equal(before.code, 0, before.stderr);
    assert.equal(before.stdout, 'up\n');

    assert.equal(await procs.stop(share, 'SIGTERM'), 0, share.stderr.text);
    const afterStop = await ssh(through, 'echo unreachable');
    assert.equal(afterStop.code, 255, afterStop.stderr);
    assert.match(afterStop.stderr, errorLine('TETHER_ERR_TUNNEL_OFFLINE'));
  });
});

describe('the relay goes away under a running `tether share`', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('SIGTERM to the relay: it exits 0, share reports GOING_AWAY, then RELAY_UNREACHABLE while it retries', async () => {
    requirePrograms();
    const relay = await startRelay(procs, tmp.path);
    const token = await createUser(relay, 'carol');
    const share = await startShare(procs, { url: relay.url, token, tunnel: 'e2e-orphan', targetPort: await freePort() });

    assert.equal(await procs.stop(relay.proc, 'SIGTERM'), 0, relay.proc.stderr.text);
    assert.match(await share.waitFor('stderr', /^disconnected: /), /\[TETHER_ERR_GOING_AWAY\]; reconnecting in [\d.]+ s$/);
    assert.match(await share.waitFor('stderr', /TETHER_ERR_RELAY_UNREACHABLE/), /^disconnected: .+ \[TETHER_ERR_RELAY_UNREACHABLE\]; reconnecting in [\d.]+ s$/);
    assert.equal(share.child.exitCode, null, 'share keeps retrying');
    assert.equal(await procs.stop(share, 'SIGTERM'), 0, share.stderr.text);
  });
});

describe('no relay listening', HANG_GUARD, () => {
  const procs = new Processes(); // Only to stop a one-shot command that a failure left running.
  let relayUrl;

  before(async () => {
    requirePrograms();
    relayUrl = `http://127.0.0.1:${await freePort()}`;
  });

  after(() => procs.stopAll());

  const commands = [
    ['proxy', 'e2e-box'],
    ['connect', 'e2e-box', '--listen', '127.0.0.1:PORT'],
    ['share', 'e2e-box', '--target', '127.0.0.1:22'],
    ['tunnels'],
    ['user', 'create', 'dave'],
  ];
  for (const args of commands) {
    test(`tether ${args.slice(0, 2).join(' ')} exits 1 with one TETHER_ERR_RELAY_UNREACHABLE line`, async () => {
      const port = await freePort();
      const r = await tether(args.map((a) => a.replace('PORT', String(port))), { relay: relayUrl, token: 'some-token-0123456789abcdef' });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^tether: .+ \[TETHER_ERR_RELAY_UNREACHABLE\]\n$/);
    });
  }
});
