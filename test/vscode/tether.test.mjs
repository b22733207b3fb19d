// The packaged Tether extension (tether-<version>.vsix from `npm run package`) in a real VS Code
// (code-server), driven from the command palette as a person would, against real peers: a
// `tether relay` process and Debian's sshd, both on 127.0.0.1. Each step saves a screenshot
// under test-output/vscode/. The steps share one VS Code and run in order.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, cleanEnv, createUser, Processes, requirePrograms, startRelay, startSshd, tempDir } from '../e2e/fixtures.mjs';
import { HANG_GUARD, tetherVsix, VSCode } from './harness.mjs';

const TUNNEL = 'laptop';

/** GET /v1/tunnels/NAME on the relay as `token`: what the relay itself says about a tunnel. */
async function relayTunnel(url, token, name) {
  const res = await fetch(`${url}/v1/tunnels/${name}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET /v1/tunnels/${name}: ${res.status}`);
  return res.json();
}

/** The first line a TCP server sends (an SSH server's identification string). */
async function banner(port) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let text = '';
  try {
    while (!text.includes('\n')) {
      const [chunk] = await once(socket, 'data');
      text += chunk;
    }
  } finally {
    socket.destroy();
  }
  return text.split('\r\n')[0];
}

describe('Tether in a real VS Code: sign in, share, connect, SSH terminal, stop, failures', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-e2e-');
  let relay;
  let sshd;
  let token;
  let vscode;
  let relayPort;

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    [relay, sshd] = await Promise.all([startRelay(procs, dir.path), startSshd(procs, dir.path)]);
    relayPort = Number(new URL(relay.url).port);
    token = await createUser(relay, 'alice');
    vscode = await new VSCode({
      vsix,
      name: 'tether',
      settings: {
        'tether.relayUrl': relay.url,
        'tether.ssh.targetPort': sshd.port,
        'tether.ssh.user': 'root',
        'tether.ssh.identityFile': sshd.key,
        'tether.logLevel': 'debug',
      },
    }).start();
  });

  after(async () => {
    try {
      await vscode?.stop();
    } finally {
      try {
        await procs.stopAll();
      } finally {
        dir.dispose();
      }
    }
  });

  /** Runs `step`; on failure adds what the extension host logged to the error. */
  async function withLogs(step) {
    try {
      await step();
    } catch (err) {
      await vscode.screenshot('failure').catch(() => undefined);
      err.message += `\n\n--- logs ---\n${vscode.logs()}`;
      throw err;
    }
  }

  async function signIn(withToken) {
    await vscode.runCommand('Tether: Sign In to Relay');
    await vscode.answerInput(relay.url, { prompt: /Relay URL/ });
    await vscode.answerInput(withToken, { prompt: /Token for/ });
  }

  test('a wrong token: the sign-in error shows, with Sign In to try again', () => withLogs(async () => {
    await vscode.screenshot('workbench');
    await signIn('not-a-token');
    const toast = await vscode.waitForToast(/Sign-in failed/);
    assert.match(await toast.innerText(), /\[TETHER_ERR_UNAUTHORIZED\]/);
    assert.deepEqual(await vscode.toastActions(toast), ['Sign In', 'Show Log']);
    await vscode.screenshot('sign-in-wrong-token');
    assert.match(await vscode.statusBarText(), /Tether: offline/);
    await vscode.clearToasts();
  }));

  test('sign in: the status bar names the relay', () => withLogs(async () => {
    await signIn(token);
    await vscode.waitForToast(new RegExp(`signed in to ${relay.url.replace(/\./g, '\\.')} as alice`));
    await vscode.waitForStatusBarItem(`Tether: 127.0.0.1:${relayPort}`);
    await vscode.screenshot('signed-in');
    await vscode.clearToasts();
  }));

  test('share the local SSH server: the status bar says sharing, the view and the relay show the tunnel', () => withLogs(async () => {
    await vscode.runCommand('Tether: Share Local SSH Server');
    await vscode.answerInput(TUNNEL, { prompt: /Tunnel name/ });
    await vscode.waitForToast(`sharing 127.0.0.1:${sshd.port} as "${TUNNEL}"`);
    await vscode.waitForStatusBarItem(/Tether: sharing 1/);
    await vscode.openViewContainer('Tether');
    const row = await vscode.waitForSideBarRow(new RegExp(`${TUNNEL}.*127\\.0\\.0\\.1:${sshd.port}`));
    assert.doesNotMatch(row, /connecting|reconnecting|failed/);
    // The relay's list, as this identity sees it: its own tunnel, online.
    await vscode.runCommand('Tether: Refresh Tunnels');
    await vscode.waitForSideBarRow(new RegExp(`${TUNNEL}\\s*online · yours`));
    await vscode.screenshot('sharing');
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    await vscode.clearToasts();
  }));

  test('connect to the tunnel: a local port on which the shared sshd answers', () => withLogs(async () => {
    await vscode.runCommand('Tether: Connect to Tunnel…');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const toast = await vscode.waitForToast(new RegExp(`${TUNNEL} is on 127\\.0\\.0\\.1:\\d+`));
    assert.deepEqual(await vscode.toastActions(toast), ['Copy SSH Command', 'Open SSH Terminal']);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await toast.innerText())[1]);
    assert.match(await banner(port), /^SSH-2\.0-OpenSSH/);
    await vscode.waitForStatusBarItem(/Tether: .*connected/);
    await vscode.waitForSideBarRow(new RegExp(`${TUNNEL}.*127\\.0\\.0\\.1:${port}`));
    await vscode.screenshot('connected');
    await vscode.clearToasts();
  }));

  test('open an SSH terminal: accept the new host key, run a command, see its output', () => withLogs(async () => {
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const dialog = await vscode.waitForDialog(/authenticity of host/);
    const fingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(dialog)?.[0];
    assert.ok(fingerprint, `the host key prompt shows a fingerprint: ${dialog}`);
    await vscode.screenshot('host-key-prompt');
    await vscode.answerDialog('Accept and Save');
    await vscode.page.locator('.terminal-wrapper.active .xterm').waitFor();
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('echo "tether-$((40 + 2)) $(whoami)"');
    await vscode.waitForTerminalText(/^tether-42 root$/m);
    await vscode.screenshot('ssh-terminal');
    // Accepted and saved: the server's host key is now in the user's known_hosts.
    const hostKey = readFileSync(`${join(dir.path, 'ssh_host_ed25519_key')}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    assert.ok(readFileSync(join(vscode.home, '.ssh/known_hosts'), 'utf8').includes(hostKey), 'known_hosts holds the accepted host key');
  }));

  test('stop sharing: the status bar no longer says sharing and the relay shows the tunnel offline', () => withLogs(async () => {
    await vscode.runCommand('Tether: Stop Sharing');
    await vscode.waitForToast(`stopped sharing "${TUNNEL}"`);
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, false);
    await vscode.page.locator('.part.statusbar .statusbar-item', { hasText: /sharing/ }).first().waitFor({ state: 'hidden' });
    await vscode.screenshot('stopped-sharing');
    await vscode.clearToasts();
  }));

  test('relay down: sharing fails with a Retry notification; once the relay is back, Retry shares', () => withLogs(async () => {
    await procs.stop(relay.proc);
    await vscode.runCommand('Tether: Share Local SSH Server');
    await vscode.answerInput(TUNNEL, { prompt: /Tunnel name/ });
    const toast = await vscode.waitForToast(`Sharing ${TUNNEL} failed`);
    assert.deepEqual(await vscode.toastActions(toast), ['Retry', 'Show Log']);
    await vscode.screenshot('relay-down');

    // The same relay again: same port, same data (users and tokens).
    const restarted = procs.start(process.execPath, [CLI, 'relay', '--host', '127.0.0.1', '--port', String(relayPort), '--data', relay.dataDir], { env: cleanEnv() });
    assert.equal(await restarted.waitFor('stdout', /^http:/), relay.url);
    relay = { ...relay, proc: restarted };
    await vscode.clickToastAction(toast, 'Retry');
    await vscode.waitForToast(`sharing 127.0.0.1:${sshd.port} as "${TUNNEL}"`);
    await vscode.waitForStatusBarItem(/Tether: sharing 1/);
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    await vscode.screenshot('relay-back-retry');
  }));
});
