// Two people, two real VS Code windows (two code-servers, two Chromium pages), one relay:
// alice owns the tunnels (shared with the CLI) and manages them in the sharing panel; bob
// accepts her invite in his VS Code and opens an SSH terminal, asks for access to another
// tunnel, is approved in alice's panel, connects, and is removed there: his terminal says why.
// Screenshots go to test-output/vscode/ (NN-two-alice-*.png, NN-two-bob-*.png).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createUser, Processes, requirePrograms, startRelay, startShare, startSshd, tempDir } from '../e2e/fixtures.mjs';
import { HANG_GUARD, tetherVsix, VSCode } from './harness.mjs';

const WEB = 'web';
const DOCS = 'docs';

describe('Team sharing between two VS Code windows: invite, request and approval in the panel, removal', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-two-');
  let relay;
  let sshd;
  const tokens = {};
  /** name → VSCode */
  const windows = {};

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    [relay, sshd] = await Promise.all([startRelay(procs, dir.path), startSshd(procs, dir.path)]);
    for (const name of ['alice', 'bob']) tokens[name] = await createUser(relay, name);
    await startShare(procs, { url: relay.url, token: tokens.alice, tunnel: WEB, targetPort: sshd.port });
    await startShare(procs, { url: relay.url, token: tokens.alice, tunnel: DOCS, targetPort: sshd.port });
    for (const name of ['alice', 'bob']) {
      windows[name] = await new VSCode({
        vsix,
        name: `two-${name}`,
        settings: { 'tether.relayUrl': relay.url, 'tether.ssh.user': 'root', 'tether.ssh.identityFile': sshd.key, 'tether.logLevel': 'debug' },
      }).start();
    }
    for (const name of ['alice', 'bob']) {
      const vscode = windows[name];
      await vscode.runCommand('Tether: Sign In to Relay');
      await vscode.answerInput(relay.url, { prompt: /Relay URL/ });
      await vscode.answerInput(tokens[name], { prompt: /Token for/ });
      await vscode.waitForToast(new RegExp(`signed in to .* as ${name}`));
      await vscode.clearToasts();
    }
  });

  after(async () => {
    try {
      for (const vscode of Object.values(windows)) await vscode.stop();
    } finally {
      try {
        await procs.stopAll();
      } finally {
        dir.dispose();
      }
    }
  });

  /** Runs `step` with both windows' logs added to a failure. */
  const both = (step) => windows.alice.withLogs(() => windows.bob.withLogs(step));
  const panel = () => windows.alice.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

  async function openPanel(tunnel) {
    // One panel at a time: each is an iframe of its own.
    await windows.alice.runCommand('View: Close All Editors');
    await windows.alice.runCommand('Tether: Manage Sharing…');
    await windows.alice.pickItem(tunnel, { prompt: /Tunnel whose sharing to manage/ });
    await panel().locator('h1', { hasText: `Sharing ${tunnel}` }).waitFor();
  }

  /** An SSH terminal in bob's window to `tunnel`, with a shell answering. */
  async function bobTerminal(tunnel, firstTime) {
    const bob = windows.bob;
    await bob.runCommand('Tether: Open SSH Terminal');
    await bob.pickItem(tunnel, { prompt: /Tunnel/ });
    if (firstTime) {
      await bob.waitForDialog(/authenticity of host/);
      await bob.answerDialog('Accept and Save');
    }
    await bob.page.locator('.terminal-wrapper.active .xterm').waitFor();
    await bob.waitForTerminalText(/[#$] ?$/);
  }

  test("alice creates an invite in her panel; bob accepts it in his VS Code and works in an SSH terminal", () => both(async () => {
    await openPanel(WEB);
    await panel().locator('vscode-tab-header', { hasText: 'Invites' }).click();
    await panel().locator('#create-invite').click();
    const codeField = panel().locator('#invite-code');
    await codeField.waitFor();
    const code = await codeField.evaluate((el) => el.value);
    assert.match(code, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    await windows.alice.screenshot('invite-created');

    const bob = windows.bob;
    await bob.runCommand('Tether: Accept Invite…');
    await bob.answerInput(code, { prompt: /Invite code or link/ });
    await bob.waitForToast(`You can now connect to ${WEB} as connect`);
    await bob.clearToasts();
    await bob.openViewContainer('Tether');
    await bob.runCommand('Tether: Refresh Tunnels');
    await bob.waitForSideBarRow(new RegExp(`${WEB}\\s*online · alice · connect`));
    await bobTerminal(WEB, true);
    await bob.typeInTerminal('echo "bob-$((40 + 2))"');
    await bob.waitForTerminalText(/^bob-42$/m);
    await bob.screenshot('web-terminal');
    // alice's panel lists him.
    await panel().locator('vscode-button', { hasText: 'Refresh' }).click();
    await panel().locator('vscode-tab-header', { hasText: 'Members (1)' }).waitFor();
  }));

  test('bob asks for access to docs in his VS Code; alice approves it in her panel; bob connects', () => both(async () => {
    const bob = windows.bob;
    await bob.runCommand('Tether: Request Access…');
    await bob.answerInput(DOCS, { prompt: /Tunnel name/ });
    await bob.pickItem('connect', { prompt: /Role to ask for/ });
    await bob.pickItem('1h', { prompt: /For how long/ });
    await bob.answerInput('review the docs build', { prompt: /Reason/ });
    // The confirmation may go straight to the notification centre while the terminal has focus:
    // the relay is asked instead.
    let pending = [];
    for (let i = 0; i < 100 && pending.length === 0; i++) {
      pending = (await fetch(`${relay.url}/v1/requests?pending=true`, { headers: { authorization: `Bearer ${tokens.bob}` } }).then((r) => r.json())).requests;
      if (pending.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(pending.map((r) => [r.tunnel, r.user, r.role, r.reason]), [[DOCS, 'bob', 'connect', 'review the docs build']]);
    await bob.clearToasts();

    await openPanel(DOCS);
    await panel().locator('vscode-tab-header', { hasText: 'Requests (1)' }).waitFor();
    await panel().locator('vscode-tab-header', { hasText: 'Requests' }).click();
    const card = panel().locator('section.request', { hasText: 'bob' });
    await card.waitFor();
    await card.locator('vscode-textfield input').fill('go ahead');
    await windows.alice.screenshot('request-to-approve');
    await card.locator('vscode-button', { hasText: 'Approve' }).click();
    await panel().locator('.notice', { hasText: /Approved bob's request for connect on docs/ }).waitFor();
    const members = await fetch(`${relay.url}/v1/tunnels/${DOCS}/members`, { headers: { authorization: `Bearer ${tokens.alice}` } }).then((r) => r.json());
    assert.deepEqual(members.members.map((m) => [m.user, m.role, m.source]), [['bob', 'connect', 'request']]);

    await bob.runCommand('Tether: Refresh Tunnels');
    await bob.waitForSideBarRow(new RegExp(`${DOCS}\\s*online · alice · connect`));
    // Host keys are known per tunnel name: docs is a new host to bob's ssh.
    await bobTerminal(DOCS, true);
    await bob.typeInTerminal('echo "docs-$((6 * 7))"');
    await bob.waitForTerminalText(/^docs-42$/m);
  }));

  test("alice removes bob from docs in her panel: bob's terminal ends and says why", () => both(async () => {
    await panel().locator('vscode-tab-header', { hasText: 'Members' }).click();
    const row = panel().locator('vscode-table-row[data-user="bob"]');
    await row.waitFor();
    await row.locator('vscode-button', { hasText: 'Remove' }).click();
    await panel().locator('.notice', { hasText: /Removed bob/ }).waitFor();
    await windows.alice.screenshot('bob-removed');
    const bob = windows.bob;
    // The sentence wraps at the panel's width: matched on the terminal's text with line ends removed.
    const said = /The SSH session to docs ended: your access to docs ended \(removed from the tunnel\), so the session is closed; ask its owner if you need it again \[TETHER_ERR_TUNNEL_FORBIDDEN\]Press any key to close this terminal\./;
    let text = '';
    for (let i = 0; i < 150 && !said.test(text); i++) {
      text = (await bob.terminalText()).replace(/\n/g, '');
      if (!said.test(text)) await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(text, said);
    await bob.screenshot('terminal-access-ended');
  }));
});
