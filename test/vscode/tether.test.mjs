// The packaged Tether extension (tether-<version>.vsix from `npm run package`) in a real VS Code
// (code-server), driven from the command palette as a person would, against real peers: a
// `tether relay` process and Debian's sshd, both on 127.0.0.1. Each step saves a screenshot
// under test-output/vscode/. The steps share one VS Code and run in order.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { CLI, cleanEnv, createUser, freePort, Processes, requirePrograms, run, startRelay, startShare, startSshd, tempDir } from '../e2e/fixtures.mjs';
import { banner, HANG_GUARD, tetherVsix, VSCode } from './harness.mjs';

const TUNNEL = 'laptop';

/** GET /v1/tunnels/NAME on the relay as `token`: what the relay itself says about a tunnel. */
async function relayTunnel(url, token, name) {
  const res = await fetch(`${url}/v1/tunnels/${name}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET /v1/tunnels/${name}: ${res.status}`);
  return res.json();
}

/** Options that keep a copied ssh line off the test runner's own config, known_hosts and agent. */
const SSH_TEST_OPTIONS = '-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=error';

/**
 * Runs an `ssh …` line as a person pasting it into a shell would (sh -c), with `command` as the
 * remote command; SSH_TEST_OPTIONS go right after `ssh`. Returns the remote command's output.
 */
async function runSshLine(line, command, env = {}) {
  assert.match(line, /^ssh /);
  const r = await run('sh', ['-c', `${line.replace(/^ssh /, `ssh ${SSH_TEST_OPTIONS} `)} ${command}`], {
    // `node` for a ProxyCommand that runs the bundled CLI with the test's own Node.
    env: cleanEnv({ PATH: `${dirname(process.execPath)}:${process.env.PATH}`, ...env }),
  });
  assert.equal(r.code, 0, `${line} ${command} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

describe('Tether in a real VS Code: sign in, share, connect, SSH terminal, stop, failures', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-e2e-');
  let relay;
  let sshd;
  let token;
  let vscode;
  let relayPort;
  /** The loopback port of the extension's listener for TUNNEL (from the connect step). */
  let listenPort;

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
        // A relay outage longer than this ends SSH sessions (the long-outage step waits it out).
        'tether.failover.resumeTimeoutMs': 6000,
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

  const withLogs = (step) => vscode.withLogs(step);

  /** Starts the relay again: same port, same data (users, tokens, tunnels). */
  async function restartRelay() {
    const restarted = procs.start(process.execPath, [CLI, 'relay', '--host', '127.0.0.1', '--port', String(relayPort), '--data', relay.dataDir], { env: cleanEnv() });
    assert.equal(await restarted.waitFor('stdout', /^http:/), relay.url);
    relay = { ...relay, proc: restarted };
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
    assert.match(await vscode.statusBarText(), /Tether: not signed in/);
    await vscode.clearToasts();
  }));

  test('sign in: the status bar names the relay', () => withLogs(async () => {
    await signIn(token);
    await vscode.waitForToast(new RegExp(`signed in to ${relay.url.replace(/\./g, '\\.')} as alice`));
    await vscode.waitForStatusBarItem(`Tether: 127.0.0.1:${relayPort}`);
    // A screen reader hears the words, not the icon's name ("plug").
    assert.equal(await vscode.statusBarAriaLabel(/Tether:/), `Tether: 127.0.0.1:${relayPort}`);
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
    assert.match(await vscode.statusBarAriaLabel(/Tether: sharing 1/), /^Tether: sharing 1(, [\d.]+ ms)?$/);
    // A click on the tunnel the relay lists offers what its context menu offers; so does Enter,
    // for someone on the keyboard (Escape puts the focus back on that row).
    await vscode.clickSideBarRow(new RegExp(`${TUNNEL}\\s*online · yours`));
    await vscode.waitForQuickInput(/Action/);
    await vscode.closeQuickInput();
    await vscode.press('Enter');
    await vscode.waitForQuickInput(/Action/);
    assert.deepEqual((await vscode.quickPickLabels()).map((l) => l.trim()), ['Open SSH Terminal', 'Connect (local port)', 'Open in Browser', 'Open in Remote-SSH Window', 'Copy SSH Command', 'Change SSH User…', 'Manage Sharing…']);
    await vscode.screenshot('tunnel-actions');
    await vscode.closeQuickInput();
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    await vscode.clearToasts();
  }));

  test('connect to the tunnel: a local port on which the shared sshd answers', () => withLogs(async () => {
    await vscode.runCommand('Tether: Connect to Tunnel…');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const toast = await vscode.waitForToast(new RegExp(`${TUNNEL} is on 127\\.0\\.0\\.1:\\d+`));
    assert.deepEqual(await vscode.toastActions(toast), ['Copy SSH Command', 'Open SSH Terminal']);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await toast.innerText())[1]);
    listenPort = port;
    assert.match(await banner(port), /^SSH-2\.0-OpenSSH/);
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected/, { warning: false });
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
    const hostKey = readFileSync(sshd.hostKeyPub, 'utf8').split(' ').slice(0, 2).join(' ');
    assert.ok(readFileSync(join(vscode.home, '.ssh/known_hosts'), 'utf8').includes(hostKey), 'known_hosts holds the accepted host key');
  }));

  test('a key protected by a passphrase: asked once in a box, and the same terminal logs in', () => withLogs(async () => {
    // A second authorized key, encrypted; the settings name it as a user editing them would.
    const encrypted = join(dir.path, 'client-with-passphrase');
    const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-C', 'tether-test', '-f', encrypted]);
    assert.equal(keygen.status, 0, `ssh-keygen: ${keygen.stderr}`);
    appendFileSync(join(dir.path, 'authorized_keys'), readFileSync(`${encrypted}.pub`));
    await vscode.updateSettings({ 'tether.ssh.identityFile': encrypted }, { applied: /settings changed: identityFile/ });
    try {
      await vscode.runCommand('Tether: Open SSH Terminal');
      await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
      // No failure first: the terminal says what it waits for, and the box asks.
      await vscode.waitForQuickInput(new RegExp(`Passphrase for ${encrypted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const waiting = await vscode.waitForTerminalText(/protected by a passphrase/);
      assert.doesNotMatch(waiting, /Press any key|no passphrase given/);
      await vscode.screenshot('passphrase-asked');
      const terminals = await vscode.page.locator('.terminal-tabs-entry, .single-terminal-tab').count();
      await vscode.answerInput('correct horse');
      await vscode.waitForTerminalText(/[#$] ?$/);
      await vscode.typeInTerminal('echo "tether-$((40 + 2)) $(whoami)"');
      await vscode.waitForTerminalText(/^tether-42 root$/m);
      // The same terminal: no dead one left behind.
      assert.equal(await vscode.page.locator('.terminal-tabs-entry, .single-terminal-tab').count(), terminals);
      await vscode.screenshot('passphrase-logged-in');
      assert.ok(!(await vscode.toastTexts()).some((t) => /failed|passphrase/i.test(t)), 'no failure notification');
    } finally {
      await vscode.updateSettings({ 'tether.ssh.identityFile': sshd.key }, { applied: /settings changed: identityFile/ });
    }
  }));

  test('copy the SSH command: both forms are offered, and what lands on the clipboard is an ssh line that works', () => withLogs(async () => {
    // The local-port form: the listener this window keeps open.
    await vscode.runCommand('Tether: Copy SSH Command');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    await vscode.waitForQuickInput(new RegExp(`Copy SSH Command for ${TUNNEL}`));
    assert.deepEqual(await vscode.quickPickLabels(), ['Local port', 'ProxyCommand']);
    await vscode.screenshot('copy-ssh-command-forms');
    await vscode.pickItem('Local port');
    const copied = (await (await vscode.waitForToast(/Copied: ssh /)).innerText()).match(/Copied: (ssh .*)/)[1].trim();
    await vscode.screenshot('copied-local-port-form');
    const local = await vscode.pasteIntoNewEditor('pasted-local-port-form');
    assert.equal(local, copied);
    assert.equal(local, `ssh -p ${listenPort} -o HostKeyAlias=tether-${TUNNEL} -i ${sshd.key} root@127.0.0.1`);
    assert.equal(await runSshLine(local, 'echo tether-local-$((6 * 7))'), 'tether-local-42');
    await vscode.clearToasts();

    // The ProxyCommand form: the CLI bundled in the extension, the relay named, no token in it.
    await vscode.runCommand('Tether: Copy SSH Command');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    await vscode.waitForQuickInput(new RegExp(`Copy SSH Command for ${TUNNEL}`));
    await vscode.pickItem('ProxyCommand');
    await vscode.waitForToast(/Copied: ssh -o .*TETHER_TOKEN/);
    const proxy = await vscode.pasteIntoNewEditor('pasted-proxycommand-form');
    // Through the shim at a path that survives extension updates, not the versioned folder.
    assert.match(proxy, new RegExp(`^ssh -o 'ProxyCommand=\\S+/\\.ssh/tether/bin/tether proxy ${TUNNEL} --relay ${relay.url.replace(/\./g, '\\.')}' -i \\S+ root@tether-${TUNNEL}$`));
    assert.ok(!proxy.includes(token), 'the copied line holds no token');
    assert.equal(await runSshLine(proxy, 'echo tether-proxy-$((6 * 7))', { TETHER_TOKEN: token }), 'tether-proxy-42');
    await vscode.clearToasts();
  }));

  test('open in a Remote-SSH window: the managed Host entry and one Include line, the user\'s config kept byte for byte, and how to install Remote-SSH', () => withLogs(async () => {
    const userConfig = join(vscode.home, '.ssh/config');
    const managedFile = join(vscode.home, '.ssh/tether/config');
    // The user's own config: odd spacing, tabs, a non-ASCII comment, no final newline.
    const foreign = '# my hosts ✓  \nHost work\n\tHostName work.example.com  \n\tUser me\n\nHost *\n    ServerAliveInterval 30';
    mkdirSync(dirname(userConfig), { recursive: true, mode: 0o700 });
    writeFileSync(userConfig, foreign, { mode: 0o644 });

    await vscode.runCommand('Tether: Open in Remote-SSH Window');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    // One notification: where the entry is, and how to install Remote-SSH (not in code-server).
    const install = await vscode.waitForToast(/Remote-SSH is not installed/);
    assert.match(await install.innerText(), new RegExp(`Host tether-${TUNNEL} is in .*\\.ssh/tether/config \\(and .*\\.ssh/config now includes it\\)\\. `
      + `Remote-SSH is not installed: install it to open tether-${TUNNEL} in a window, or run "ssh tether-${TUNNEL}" in a terminal\\.`));
    assert.deepEqual(await vscode.toastActions(install), ['Install Remote-SSH']);
    assert.equal((await vscode.toastTexts()).length, 1, 'one notification');
    await vscode.screenshot('remote-ssh-not-installed');

    const config = readFileSync(userConfig, 'utf8');
    assert.equal(config, `Include ~/.ssh/tether/config\n\n${foreign}`);
    assert.equal(statSync(userConfig).mode & 0o777, 0o644, 'the user\'s config keeps its mode');
    const managed = readFileSync(managedFile, 'utf8');
    assert.match(managed, new RegExp(`^Host tether-${TUNNEL}\\n  HostName 127\\.0\\.0\\.1\\n  Port ${listenPort}\\n  User root\\n  IdentityFile ${sshd.key}\\n  HostKeyAlias tether-${TUNNEL}$`, 'm'));
    // The entry reaches the shared sshd through the tunnel.
    assert.equal(await runSshLine(`ssh -F ${managedFile} tether-${TUNNEL}`, 'echo tether-remote-$((6 * 7))'), 'tether-remote-42');
    await vscode.clearToasts();

    // Again: nothing changes, and it says so.
    await vscode.runCommand('Tether: Open in Remote-SSH Window');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const again = await vscode.waitForToast(/Remote-SSH is not installed/);
    assert.match(await again.innerText(), new RegExp(`Host tether-${TUNNEL} is in \\S+\\.ssh/tether/config\\. Remote-SSH`));
    assert.equal(readFileSync(userConfig, 'utf8'), config);
    assert.equal(readFileSync(managedFile, 'utf8'), managed);
    assert.equal(config.split('\n').filter((line) => /^\s*include\b/i.test(line)).length, 1);
    await vscode.clearToasts();
  }));

  test('a tunnel this identity may not use, or that does not exist: one notification with its code and actions', () => withLogs(async () => {
    // Bob claims a tunnel by sharing it once (the admin creates bob through the relay's HTTP API).
    const res = await fetch(`${relay.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bob' }),
    });
    assert.equal(res.status, 201, `POST /v1/users: ${res.status}`);
    const bob = await res.json();
    await procs.stop(await startShare(procs, { url: relay.url, token: bob.token, tunnel: 'bobs-box', targetPort: sshd.port }));

    // Bob's tunnel is reported like a name nobody holds: the relay does not tell alice it exists.
    const cases = [['bobs-box', 'TETHER_ERR_TUNNEL_UNKNOWN', 'forbidden-tunnel'], ['nobody-home', 'TETHER_ERR_TUNNEL_UNKNOWN', 'unknown-tunnel']];
    for (const [name, code, step] of cases) {
      await vscode.runCommand('Tether: Connect to Tunnel…');
      await vscode.waitForQuickInput(/Tunnel/);
      await vscode.page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: TUNNEL }).first().waitFor();
      assert.ok(!(await vscode.quickPickLabels()).includes(name), `the relay does not list ${name} for alice`);
      // A name typed into the pick can be used: the relay decides.
      await vscode.page.locator('.quick-input-widget input.input').fill(name);
      await vscode.pickItem(name);
      const toast = await vscode.waitForToast(new RegExp(`Connecting failed: .*\\[${code}\\]`));
      assert.deepEqual(await vscode.toastActions(toast), ['Retry', 'Show Log']);
      await vscode.screenshot(step);
      assert.equal((await vscode.toastTexts()).filter((t) => t.includes(code)).length, 1, `one notification for ${code}`);
      await vscode.clearToasts();
    }
  }));

  test('share a port where nothing listens: the prompt names the port, a warning says so, the view shows it; a taken name asks before re-pointing', () => withLogs(async () => {
    const closed = await freePort();
    await vscode.runCommand('Tether: Share Local Port…');
    await vscode.answerInput(`127.0.0.1:${closed}`, { prompt: /Local service to share/ });
    await vscode.answerInput('nothing-here', { prompt: new RegExp(`Tunnel name for 127\\.0\\.0\\.1:${closed}`) });
    await vscode.waitForToast(new RegExp(`nothing listens on 127\\.0\\.0\\.1:${closed}: connections through nothing-here are refused`));
    await vscode.waitForSideBarRow(new RegExp(`nothing-here.*127\\.0\\.0\\.1:${closed} · nothing listens there`));
    await vscode.screenshot('share-nothing-listens');
    await vscode.clearToasts();

    // The name of the SSH share, typed for another port: asked first, and kept when declined.
    await vscode.runCommand('Tether: Share Local Port…');
    await vscode.answerInput(`127.0.0.1:${closed}`, { prompt: /Local service to share/ });
    await vscode.answerInput(TUNNEL, { prompt: /Tunnel name for/ });
    assert.match(await vscode.waitForDialog(/already shares/), new RegExp(`${TUNNEL} already shares 127\\.0\\.0\\.1:${sshd.port}\\. Re-point it to 127\\.0\\.0\\.1:${closed}\\?`));
    await vscode.screenshot('share-repoint-asks');
    await vscode.answerDialog('Cancel');
    await vscode.waitForSideBarRow(new RegExp(`${TUNNEL}.*127\\.0\\.0\\.1:${sshd.port}`));

    await vscode.runCommand('Tether: Stop Sharing');
    await vscode.pickItem('nothing-here', { prompt: /Tunnel/ });
    await vscode.waitForToast('stopped sharing "nothing-here"');
    await vscode.clearToasts();
  }));

  test('stop sharing: the status bar no longer says sharing and the relay shows the tunnel offline', () => withLogs(async () => {
    await vscode.runCommand('Tether: Stop Sharing');
    // The SSH terminal is still open through it: asked first, with the choice to let it finish.
    assert.match(await vscode.waitForDialog(/open connection/), new RegExp(`${TUNNEL} has (an open connection|\\d+ open connections)\\. Stop sharing it\\?`));
    await vscode.screenshot('stop-sharing-asks');
    await vscode.answerDialog('Stop Now');
    await vscode.waitForToast(`stopped sharing "${TUNNEL}"`);
    // The SSH terminal it cut stays open, with its scrollback, the reason and how to reconnect.
    const ended = await vscode.waitForTerminalText(new RegExp(`\\[Tether\\] The SSH session to ${TUNNEL} ended: [\\s\\S]+\\s+Press Enter to reconnect, or any other key to close this terminal\\.`));
    // The reason ends with its code (the terminal may wrap the line anywhere, mid-code too).
    assert.match(ended.replace(/\n/g, ''), /The SSH session to \S+ ended: .+\[TETHER_ERR_\w+\]\s*Press Enter/);
    assert.match(ended, /tether-42 root/, 'the scrollback is kept');
    await vscode.screenshot('terminal-kept-with-reason');
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, false);
    await vscode.page.locator('.part.statusbar .statusbar-item', { hasText: /sharing/ }).first().waitFor({ state: 'hidden' });
    await vscode.screenshot('stopped-sharing');
    await vscode.clearToasts();
    // Connecting to it now: a warning that it is offline, not "connected".
    await vscode.runCommand('Tether: Connect to Tunnel…');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const offline = await vscode.waitForToast(new RegExp(`${TUNNEL} is offline \\(no host is sharing it now\\)`));
    assert.deepEqual(await vscode.toastActions(offline), ['Copy SSH Command']);
    await vscode.screenshot('connect-offline');
    await vscode.clearToasts();
  }));

  test('relay down: the status bar says so, sharing fails with a Retry notification; once the relay is back, Retry shares and the status recovers', () => withLogs(async () => {
    await vscode.waitForStatusBarState(/Tether:/, /Tether: connected/, { warning: false });
    await procs.stop(relay.proc);
    // The listener is still open, but without the relay it reaches nothing: the status bar says so.
    await vscode.waitForStatusBarState(/Tether:/, /Tether: relay unreachable · reconnecting$/, { warning: true });
    await vscode.screenshot('relay-down-status');
    await vscode.runCommand('Tether: Share Local SSH Server');
    await vscode.answerInput(TUNNEL, { prompt: /Tunnel name/ });
    const toast = await vscode.waitForToast(`Sharing ${TUNNEL} failed`);
    assert.deepEqual(await vscode.toastActions(toast), ['Retry', 'Show Log']);
    await vscode.screenshot('relay-down');

    await restartRelay();
    await vscode.clickToastAction(toast, 'Retry');
    await vscode.waitForToast(`sharing 127.0.0.1:${sshd.port} as "${TUNNEL}"`);
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected( · [\d.]+ ms)?$/, { warning: false });
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);
    await vscode.screenshot('relay-back-retry');
    await vscode.clearToasts();
  }));

  test('the relay restarts while sharing: the status bar says relay unreachable, then recovers by itself', () => withLogs(async () => {
    await procs.stop(relay.proc);
    await vscode.waitForStatusBarState(/Tether:/, /Tether: relay unreachable · reconnecting$/, { warning: true });
    // The share reconnects by itself: one warning that says so, not a failure with Retry.
    const lost = await vscode.waitForToast(new RegExp(`Sharing ${TUNNEL}: lost the relay \\(.+\\); reconnecting \\[TETHER_ERR_\\w+\\]`));
    assert.deepEqual(await vscode.toastActions(lost), ['Show Log']);
    assert.equal((await vscode.toastTexts()).filter((t) => t.includes(`Sharing ${TUNNEL}`)).length, 1, 'one notification for the outage');
    assert.ok(!(await vscode.toastTexts()).some((t) => /failed/.test(t)), 'nothing says failed while reconnecting');
    await vscode.screenshot('relay-restart-degraded');
    await restartRelay();
    // No user action: the host agent and the connector reconnect on their own.
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected( · [\d.]+ ms)?$/, { warning: false });
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);
    await vscode.screenshot('relay-restart-recovered');
    await vscode.clearToasts();
  }));

  test('a relay outage longer than the resume timeout: the SSH terminal keeps its text, says why, and Enter reconnects once the relay is back', () => withLogs(async () => {
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('echo "before-$((40 + 2))"');
    await vscode.waitForTerminalText(/^before-42$/m);
    await procs.stop(relay.proc);
    // tether.failover.resumeTimeoutMs is 6 s here: the session is given up, the terminal kept.
    // Compared without whitespace: the terminal wraps the line anywhere.
    const ended = (await vscode.waitForTerminalText(/Press Enter to reconnect/)).replace(/\s+/g, '');
    const reason = `The SSH session to ${TUNNEL} ended: the connection to ${TUNNEL} was lost: no relay could carry it for 6 s, so the session is closed; `
      + 'connect again once a relay is reachable (the Tether status bar item shows them) [TETHER_ERR_RESUME_TIMEOUT]';
    assert.ok(ended.includes(reason.replace(/\s+/g, '')), `the terminal says why: ${ended}`);
    assert.match(ended, /before-42/, 'the scrollback is kept');
    await vscode.screenshot('long-outage-terminal-kept');
    // Enter while the relay is still down: it says why, and Enter may try again.
    await vscode.page.locator('.terminal-wrapper.active .xterm').click();
    await vscode.press('Enter');
    await vscode.waitForTerminalText(/Press Enter to try again, or any other key to close this terminal\./);
    await vscode.screenshot('long-outage-reconnect-refused');
    await restartRelay();
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected( · [\d.]+ ms)?$/, { warning: false });
    await vscode.press('Enter');
    await vscode.waitForTerminalText(/Reconnecting to root@\S+ through Tether…[\s\S]*[#$] ?$/);
    await vscode.typeInTerminal('echo "after-$((40 + 2))"');
    await vscode.waitForTerminalText(/^after-42$/m);
    await vscode.screenshot('long-outage-reconnected');
    await vscode.clearToasts();
  }));

  test('Toggle Share on Startup: the shared tunnel goes into tether.shareOnStartup (user settings, this machine)', () => withLogs(async () => {
    await vscode.runCommand('Tether: Toggle Share on Startup');
    await vscode.waitForToast(new RegExp(`${TUNNEL} \\(127\\.0\\.0\\.1:${sshd.port}\\) is shared whenever VS Code starts signed in on this machine`));
    // Written by VS Code's configuration service: in code-server (a remote window) a machine
    // setting goes to the machine's settings file, in a desktop window to the user's.
    const written = () => ['Machine', 'User']
      .map((d) => join(vscode.userDataDir, d, 'settings.json'))
      .filter((f) => existsSync(f))
      .map((f) => JSON.parse(readFileSync(f, 'utf8'))['tether.shareOnStartup'])
      .find((v) => v !== undefined);
    for (let i = 0; i < 50 && written() === undefined; i++) await vscode.page.waitForTimeout(100);
    assert.deepEqual(written(), [{ name: TUNNEL, host: '127.0.0.1', port: sshd.port }]);
    await vscode.screenshot('share-on-startup-added');
    await vscode.clearToasts();
  }));

  test('Developer: Reload Window: the share and the listener come back by themselves, on the same port', () => withLogs(async () => {
    await vscode.clearToasts();
    await vscode.runCommand('Developer: Reload Window');
    // A new workbench: the extension activates again and restores what this window had.
    const restored = await (await vscode.waitForToast(/Tether: restored /, { timeout: 90_000 })).innerText();
    assert.match(restored, new RegExp(`sharing ${TUNNEL}`));
    assert.match(restored, new RegExp(`${TUNNEL} on 127\\.0\\.0\\.1:${listenPort}`));
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected( · [\d.]+ ms)?$/, { warning: false });
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    // The managed Host entry's port answers again: the listener came back where it was.
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);
    await vscode.screenshot('reload-restored');
    await vscode.clearToasts();
  }));

  test('Reload Window while the relay is down: one warning instead of failures, and everything comes back once the relay is up', () => withLogs(async () => {
    await vscode.clearToasts();
    await procs.stop(relay.proc);
    await vscode.runCommand('Developer: Reload Window');
    await vscode.waitForToast(/does not answer yet: what this window shared and connected to comes back once it does/, { timeout: 90_000 });
    await vscode.waitForStatusBarState(/Tether:/, /relay unreachable/, { warning: true });
    assert.ok(!(await vscode.toastTexts()).some((t) => /failed/i.test(t)), 'no failure notification while the relay is down');
    await vscode.screenshot('reload-relay-down-waiting');
    await restartRelay();
    const restored = await (await vscode.waitForToast(/Tether: restored /, { timeout: 60_000 })).innerText();
    assert.match(restored, new RegExp(`sharing ${TUNNEL}`));
    assert.match(restored, new RegExp(`${TUNNEL} on 127\\.0\\.0\\.1:${listenPort}`));
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected( · [\d.]+ ms)?$/, { warning: false });
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);
    await vscode.screenshot('reload-relay-back-restored');
    await vscode.clearToasts();
  }));

  test('sign out while sharing: asked first; Cancel keeps everything, Sign Out stops it and the status bar says not signed in', () => withLogs(async () => {
    await vscode.runCommand('Tether: Sign Out');
    assert.match(await vscode.waitForDialog(/Signing out/), new RegExp(`Signing out stops sharing ${TUNNEL} and closes (a connection|\\d+ connections)\\. Continue\\?`));
    await vscode.screenshot('sign-out-asks');
    await vscode.answerDialog('Cancel');
    await vscode.waitForStatusBarItem(/Tether: sharing 1/);
    await vscode.runCommand('Tether: Sign Out');
    await vscode.waitForDialog(/Signing out/);
    await vscode.answerDialog('Sign Out');
    await vscode.waitForStatusBarItem(/Tether: not signed in/);
    assert.equal(await vscode.statusBarAriaLabel(/Tether: not signed in/), 'Tether: not signed in');
    await vscode.screenshot('signed-out');
  }));
  test('sign in while `tether share` holds the startup tunnel elsewhere: left to it, logged, no failure', () => withLogs(async () => {
    const elsewhere = await startShare(procs, { url: relay.url, token, tunnel: TUNNEL, targetPort: sshd.port });
    const mark = vscode.logMark();
    await signIn(token);
    await vscode.waitForExtensionLog(new RegExp(`tether\\.shareOnStartup: ${TUNNEL} is already shared elsewhere`), { mark });
    await vscode.waitForStatusBarItem(`Tether: 127.0.0.1:${relayPort}`);
    assert.ok(!(await vscode.toastTexts()).some((t) => /failed/i.test(t)), 'no failure notification');
    await vscode.screenshot('share-on-startup-elsewhere');
    await procs.stop(elsewhere);
    await vscode.clearToasts();
    await vscode.runCommand('Tether: Sign Out');
    await vscode.waitForStatusBarItem(/Tether: not signed in/);
  }));

  test('sign in with tether.shareOnStartup: the tunnel is shared without being asked', () => withLogs(async () => {
    const mark = vscode.logMark();
    await signIn(token);
    await vscode.waitForStatusBarItem(/Tether: sharing 1/);
    await vscode.waitForExtensionLog(new RegExp(`tether\\.shareOnStartup: sharing ${TUNNEL} \\(127\\.0\\.0\\.1:${sshd.port}\\)`), { mark });
    assert.equal((await relayTunnel(relay.url, token, TUNNEL)).online, true);
    await vscode.screenshot('share-on-startup-shared');
    await vscode.clearToasts();
  }));
});
