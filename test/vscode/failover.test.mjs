// Relay failover from the packaged extension in a real VS Code (code-server): two `tether relay`
// processes over one data dir (so alice's token works on both), `tether.relays` naming both, and
// Debian's sshd shared from the window and reached through it (an SSH terminal and a local
// listener). The preferred relay is killed with SIGKILL mid-session: the open SSH terminal keeps
// working, new connections through the listener too, the status bar names the second relay, the
// Tether log says what happened, and nobody gets a notification. Then the second relay dies
// too: one warning for the outage, not one per attempt. Screenshots go to test-output/vscode/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUser, Processes, requirePrograms, startRelay, startSshd, tempDir } from '../e2e/fixtures.mjs';
import { banner, HANG_GUARD, tetherVsix, UI_TIMEOUT_MS, VSCode } from './harness.mjs';

const TUNNEL = 'laptop';

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('Tether in a real VS Code: two relays, the preferred one is killed, connections carry on through the other', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-failover-');
  let relayA;
  let relayB;
  let hostA;
  let hostB;
  let sshd;
  let token;
  let vscode;
  let listenPort;

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    // One after the other: the second relay opens the user store the first one created.
    relayA = await startRelay(procs, dir.path);
    relayB = await startRelay(procs, dir.path);
    assert.equal(relayB.dataDir, relayA.dataDir, 'both relays use one data dir');
    [hostA, hostB] = [relayA.url, relayB.url].map((url) => url.replace(/^http:\/\//, ''));
    sshd = await startSshd(procs, dir.path);
    token = await createUser(relayA, 'alice');
    vscode = await new VSCode({
      vsix,
      name: 'failover',
      settings: {
        'tether.relayUrl': relayA.url,
        'tether.relays': [relayA.url, relayB.url],
        'tether.ssh.targetPort': sshd.port,
        'tether.ssh.user': 'root',
        'tether.ssh.identityFile': sshd.key,
        'tether.logLevel': 'debug',
      },
    }).start();
    // The extension is active (its commands are in the palette) once its status bar item shows;
    // a palette opened before that lists no Tether command and does not refresh.
    await vscode.waitForStatusBarItem(/Tether: not signed in/);
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
  const statusItem = () => vscode.page.locator('.part.statusbar .statusbar-item').filter({ hasText: /Tether:/ }).first();

  /** Hovers the Tether status bar item until its tooltip matches `pattern`; returns the tooltip text. */
  async function waitForTooltip(pattern) {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    let seen = '';
    for (;;) {
      await vscode.page.mouse.move(0, 0);
      await statusItem().hover();
      const hover = vscode.page.locator('.workbench-hover, .monaco-hover').filter({ hasText: /Tether:/ }).first();
      seen = await hover.innerText({ timeout: 3000 }).catch(() => seen);
      if (pattern.test(seen)) return seen;
      if (Date.now() > deadline) throw new Error(`the status bar tooltip never matched ${pattern}; it shows:\n${seen}`);
      await vscode.page.waitForTimeout(300);
    }
  }

  /** Everything the Tether output channel wrote so far (its log files under the user data dir). */
  function tetherLog() {
    const texts = [];
    const walk = (folder) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/Tether\.log$/.test(entry.name)) texts.push(readFileSync(path, 'utf8'));
      }
    };
    walk(join(vscode.userDataDir, 'logs'));
    return texts.join('\n');
  }

  /** Waits until the Tether log holds a line matching `pattern`. */
  async function waitForLog(pattern) {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      const text = tetherLog();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the Tether log never showed ${pattern}; it holds:\n${text}`);
      await vscode.page.waitForTimeout(250);
    }
  }

  test('sign in, share the sshd: the tunnel is registered with both relays, the tooltip names the preferred one', () => withLogs(async () => {
    await vscode.signInAndShare({ relayUrl: relayA.url, token, tunnel: TUNNEL, sshPort: sshd.port });
    // Both relays see the tunnel online: the host agent registered with each.
    for (const relay of [relayA, relayB]) {
      const res = await fetch(`${relay.url}/v1/tunnels/${TUNNEL}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, `GET ${relay.url}/v1/tunnels/${TUNNEL}: ${res.status}`);
      assert.equal((await res.json()).online, true, `${TUNNEL} is online on ${relay.url}`);
    }
    await waitForTooltip(new RegExp(`Sharing ${TUNNEL} \\(online\\) via ${escape(hostA)}, connected to 2 of 2 relays`));
    await vscode.screenshot('sharing-two-relays-tooltip');
    await vscode.clearToasts();
  }));

  test('connect and open an SSH terminal: both go through the preferred relay', () => withLogs(async () => {
    await vscode.runCommand('Tether: Connect to Tunnel…');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const toast = await vscode.waitForToast(new RegExp(`${TUNNEL} is on 127\\.0\\.0\\.1:\\d+`));
    listenPort = Number(/127\.0\.0\.1:(\d+)/.exec(await toast.innerText())[1]);
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);
    await vscode.clearToasts();

    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    await vscode.waitForDialog(/authenticity of host/);
    await vscode.answerDialog('Accept and Save');
    await vscode.page.locator('.terminal-wrapper.active .xterm').waitFor();
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('echo "before-$((40 + 2))"');
    await vscode.waitForTerminalText(/^before-42$/m);
    await vscode.waitForStatusBarState(/Tether:/, /Tether: sharing 1 · connected( · [\d.]+ ms)?$/, { warning: false });
    await waitForTooltip(new RegExp(`Relay link: up via ${escape(hostA)}, connected to 2 of 2 relays`));
    await vscode.screenshot('connected-via-preferred');
  }));

  test('SIGKILL the preferred relay: the open terminal still runs commands, the listener still answers, the status bar names the other relay, no notification', () => withLogs(async () => {
    await vscode.clearToasts().catch(() => undefined);
    await vscode.page.mouse.move(0, 0);
    await procs.stop(relayA.proc, 'SIGKILL');

    // The status bar says which relay carries the connections now, without a warning.
    await vscode.waitForStatusBarState(/Tether:/, new RegExp(`Tether: sharing 1 · connected · via ${escape(hostB)}( · [\\d.]+ ms)?$`), { warning: false });
    // The terminal opened through the dead relay carries on: its stream resumed through the other.
    await vscode.typeInTerminal('echo "after-$((40 + 2)) $(whoami)"');
    await vscode.waitForTerminalText(/^after-42 root$/m);
    await vscode.screenshot('terminal-after-failover');
    // New connections through the listener go to the second relay.
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);

    const tooltip = await waitForTooltip(new RegExp(`Relay link: up via ${escape(hostB)} \\(failover: ${escape(hostA)} lost`));
    assert.match(tooltip, new RegExp(`Sharing ${TUNNEL} \\(online\\) via ${escape(hostB)}`));
    assert.match(tooltip, /connected to 1 of 2 relays/);
    await vscode.screenshot('failover-tooltip');

    const log = await waitForLog(new RegExp(`relay: now using ${escape(relayB.url)} \\(failover: ${escape(relayA.url)} lost .*\\[connections\\]`));
    assert.match(log, new RegExp(`relay: now using ${escape(relayB.url)} \\(failover: ${escape(relayA.url)} lost .*\\[sharing ${TUNNEL}\\]`));
    assert.match(log, new RegExp(`${TUNNEL}: a connection lost its relay`));
    assert.match(log, new RegExp(`${TUNNEL}: a connection resumed through another relay`));
    // One relay of two lost: nothing for the user to act on.
    assert.deepEqual(await vscode.toastTexts(), [], 'no notification while the other relay carries everything');
  }));

  test('the second relay dies too: the status bar says relay unreachable, and one warning for the outage', () => withLogs(async () => {
    await vscode.page.mouse.move(0, 0);
    await procs.stop(relayB.proc, 'SIGKILL');
    await vscode.waitForStatusBarState(/Tether:/, /Tether: relay unreachable · reconnecting$/, { warning: true });
    const lost = await vscode.waitForToast(new RegExp(`Sharing ${TUNNEL}: lost the relay \\(.+\\); reconnecting \\[TETHER_ERR_\\w+\\]`));
    assert.deepEqual(await vscode.toastActions(lost), ['Show Log']);
    // The pool keeps retrying both relays: still one notification after several attempts.
    await waitForLog(new RegExp(`relay: none reachable .*\\[sharing ${TUNNEL}\\]`));
    await vscode.page.waitForTimeout(3000);
    const toasts = await vscode.toastTexts();
    assert.equal(toasts.length, 1, `one notification for the outage: ${JSON.stringify(toasts)}`);
    await vscode.screenshot('both-relays-down');
  }));
});
