// HTTP tunnels and the per-tunnel SSH user, in a real VS Code (code-server) with the packaged
// extension, against real peers on 127.0.0.1: a `tether relay`, a real HTTP server (node:http)
// and Debian's sshd, each shared with the `tether share` CLI as a teammate would. Open in Browser
// must open a real page in the browser (code-server turns 127.0.0.1:PORT into its /proxy/PORT/
// address, which the browser reaches); Copy Address must put an address that answers on the
// clipboard. With tether.ssh.user empty, the first SSH terminal to a tunnel asks for the user,
// the second does not, Change SSH User… asks again, and the setting, once set, wins.
// Screenshots go to test-output/vscode/.
import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUser, Processes, requirePrograms, startRelay, startShare, startSshd, tempDir } from '../e2e/fixtures.mjs';
import { HANG_GUARD, SCREENSHOTS, tetherVsix, UI_TIMEOUT_MS, VSCode } from './harness.mjs';

const WEB = 'webapp';
const BOX = 'box';
/** What the shared web server serves: a page a person would recognise in the browser. */
const MARKER = 'Hello through Tether 7f3a';
const PAGE = `<!doctype html><html><head><title>Tether HTTP test</title></head><body><h1>${MARKER}</h1></body></html>`;

/** A real HTTP server on 127.0.0.1 that records every request it gets. */
async function startWebServer() {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method, url: req.url });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { server, port: server.address().port, hits };
}

describe('Tether in a real VS Code: Open in Browser and Copy Address for an HTTP tunnel; the SSH user asked once per tunnel', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-http-');
  let relay;
  let sshd;
  let web;
  let vscode;
  /** The extension's listener for WEB, once Open in Browser made it. */
  let webPort;

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    [relay, sshd, web] = await Promise.all([startRelay(procs, dir.path), startSshd(procs, dir.path), startWebServer()]);
    const token = await createUser(relay, 'alice');
    // A teammate's dev server and SSH server, shared with the CLI.
    await startShare(procs, { url: relay.url, token, tunnel: WEB, targetPort: web.port });
    await startShare(procs, { url: relay.url, token, tunnel: BOX, targetPort: sshd.port });
    vscode = await new VSCode({
      vsix,
      name: 'http-user',
      // No tether.ssh.user: the user is asked per tunnel.
      settings: {
        'tether.relayUrl': relay.url,
        'tether.ssh.identityFile': sshd.key,
        'tether.logLevel': 'debug',
      },
    }).start();
    await vscode.runCommand('Tether: Sign In to Relay');
    await vscode.answerInput(relay.url, { prompt: /Relay URL/ });
    await vscode.answerInput(token, { prompt: /Token for/ });
    await vscode.waitForToast(/signed in to .* as alice/);
    await vscode.clearToasts();
    await vscode.openViewContainer('Tether');
    await vscode.waitForSideBarRow(new RegExp(`${WEB}\\s*online · yours`));
  });

  after(async () => {
    try {
      await vscode?.stop();
    } finally {
      try {
        await procs.stopAll();
      } finally {
        web?.server.close();
        dir.dispose();
      }
    }
  });

  const withLogs = (step) => vscode.withLogs(step);
  /** The Host entries Open in Remote-SSH writes, in VS Code's own HOME. */
  const managedFile = () => join(vscode.home, '.ssh/tether/config');

  /** Clicks a side bar row and picks one of the actions it offers; returns every label offered. */
  async function rowAction(row, action) {
    await vscode.clickSideBarRow(row);
    await vscode.waitForQuickInput(/Action/);
    const labels = (await vscode.quickPickLabels()).map((l) => l.trim());
    await vscode.pickItem(new RegExp(`${action}$`));
    return labels;
  }

  /** Waits for the browser tab Open in Browser opens; returns it once its page has loaded. */
  async function nextBrowserTab(action) {
    const [tab] = await Promise.all([vscode.context.waitForEvent('page', { timeout: UI_TIMEOUT_MS }), action()]);
    await tab.waitForLoadState('domcontentloaded');
    return tab;
  }

  async function shootTab(tab, step) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await tab.screenshot({ path: join(SCREENSHOTS, `http-user-browser-${step}.png`) });
  }

  test('Open in Browser on a tunnel not connected yet: it connects, and the browser shows the shared web server\'s page', () => withLogs(async () => {
    const before = web.hits.length;
    // The reachable tunnel's actions: Open in Browser among them, and Copy Address not (no port yet).
    const tab = await nextBrowserTab(async () => {
      const labels = await rowAction(new RegExp(`${WEB}\\s*online · yours`), 'Open in Browser');
      assert.deepEqual(labels, ['Open SSH Terminal', 'Connect (local port)', 'Open in Browser', 'Open in Remote-SSH Window', 'Copy SSH Command', 'Change SSH User…', 'Manage Sharing…']);
    });
    // code-server gives the browser an address it can reach: its proxy to the extension's port.
    const listener = await vscode.waitForSideBarRow(new RegExp(`${WEB}.*127\\.0\\.0\\.1:\\d+`));
    webPort = Number(/127\.0\.0\.1:(\d+)/.exec(listener)[1]);
    assert.match(tab.url(), new RegExp(`/proxy/${webPort}/$`));
    await tab.locator('h1', { hasText: MARKER }).waitFor();
    assert.equal(await tab.title(), 'Tether HTTP test');
    await shootTab(tab, 'opened-from-reachable');
    await tab.close();
    // The page came from the shared server, through the tunnel.
    assert.ok(web.hits.length > before, 'the web server got the request');
    assert.deepEqual(web.hits.at(-1), { method: 'GET', url: '/' });
    await vscode.screenshot('web-listener');
  }));

  test('Copy Address on the listener: 127.0.0.1:PORT on the clipboard, and it answers with the page', () => withLogs(async () => {
    const labels = await rowAction(new RegExp(`${WEB}.*127\\.0\\.0\\.1:${webPort}`), 'Copy Address');
    assert.deepEqual(labels, ['Open SSH Terminal', 'Open in Browser', 'Open in Remote-SSH Window', 'Copy Address', 'Copy SSH Command', 'Change SSH User…', 'Disconnect']);
    const toast = await vscode.waitForToast(/Copied 127\.0\.0\.1:/);
    assert.match(await toast.innerText(), new RegExp(`Copied 127\\.0\\.0\\.1:${webPort}: ${WEB} on the machine this window runs on \\(a browser opens it as http://127\\.0\\.0\\.1:${webPort}/\\)\\. Your browser may be on another machine: Open in Browser`));
    await vscode.screenshot('copy-address-toast');
    const pasted = await vscode.pasteIntoNewEditor('pasted-address');
    assert.equal(pasted, `127.0.0.1:${webPort}`);
    const res = await fetch(`http://${pasted}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(MARKER));
    await vscode.clearToasts();
  }));

  test('Open in Browser on the listener (and from the palette): the same port, no second listener', () => withLogs(async () => {
    let tab = await nextBrowserTab(() => rowAction(new RegExp(`${WEB}.*127\\.0\\.0\\.1:${webPort}`), 'Open in Browser'));
    assert.match(tab.url(), new RegExp(`/proxy/${webPort}/$`));
    await tab.locator('h1', { hasText: MARKER }).waitFor();
    await tab.close();
    tab = await nextBrowserTab(async () => {
      await vscode.runCommand('Tether: Open in Browser');
      await vscode.pickItem(WEB, { prompt: /Tunnel/ });
    });
    assert.match(tab.url(), new RegExp(`/proxy/${webPort}/$`));
    await tab.locator('h1', { hasText: MARKER }).waitFor();
    await shootTab(tab, 'opened-from-palette');
    await tab.close();
    const rows = await vscode.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: /127\.0\.0\.1:\d+/ }).allInnerTexts();
    assert.equal(rows.length, 1, `one listener: ${rows.join(' | ')}`);
  }));

  test('Open SSH Terminal with tether.ssh.user empty: asks the user (local name offered, bad names explained), then logs in', () => withLogs(async () => {
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    await vscode.waitForQuickInput(new RegExp(`SSH user for ${BOX}`));
    const input = vscode.page.locator('.quick-input-widget input.input');
    assert.equal(await input.inputValue(), os.userInfo().username, 'the local user name is offered');
    // Told as it is typed, and Enter does not take it.
    await input.fill('root@box');
    await vscode.waitForQuickInput(/without "@host"/);
    await input.fill('bad user');
    await vscode.waitForQuickInput(/no spaces/);
    await vscode.screenshot('ssh-user-invalid');
    await input.press('Enter');
    await vscode.waitForQuickInput(/no spaces/);
    await vscode.answerInput('root', { prompt: new RegExp(`SSH user for ${BOX}`) });
    await vscode.waitForDialog(/authenticity of host/);
    await vscode.answerDialog('Accept and Save');
    await vscode.page.locator('.terminal-wrapper.active .xterm').waitFor();
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('echo "first-$((40 + 2)) $(whoami)"');
    await vscode.waitForTerminalText(/^first-42 root$/m);
    await vscode.screenshot('ssh-terminal-asked-user');
  }));

  test('a second terminal to the same tunnel does not ask again; Copy SSH Command and the Remote-SSH Host entry use the same user', () => withLogs(async () => {
    const tabs = vscode.page.locator('.terminal-tabs-entry');
    const terminals = await tabs.count();
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    // No input box: the quick input closes, and a new terminal opens by itself.
    await vscode.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    const deadline = Date.now() + UI_TIMEOUT_MS;
    while ((await tabs.count()) <= terminals) {
      if (Date.now() > deadline) throw new Error('no new terminal opened');
      await vscode.page.waitForTimeout(100);
    }
    await vscode.waitForTerminalText(new RegExp(`Connecting to root@${BOX} through Tether`));
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('echo "second-$((40 + 2)) $(whoami)"');
    const text = await vscode.waitForTerminalText(/^second-42 root$/m);
    assert.doesNotMatch(text, /first-42/, 'a new terminal, not the first one');
    await vscode.screenshot('ssh-terminal-second-not-asked');

    await vscode.runCommand('Tether: Copy SSH Command');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    await vscode.pickItem('ProxyCommand', { prompt: new RegExp(`Copy SSH Command for ${BOX}`) });
    const copied = await vscode.waitForToast(/Copied: ssh /);
    assert.match(await copied.innerText(), new RegExp(` root@tether-${BOX} \\(`));
    await vscode.clearToasts();

    // Remote-SSH's Host entry too (code-server has no Remote-SSH: the entry is written all the same).
    await vscode.runCommand('Tether: Open in Remote-SSH Window');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    await vscode.waitForToast(/Remote-SSH is not installed/);
    assert.match(readFileSync(managedFile(), 'utf8'), new RegExp(`^Host tether-${BOX}\\n  HostName 127\\.0\\.0\\.1\\n  Port \\d+\\n  User root\\n`, 'm'));
    await vscode.clearToasts();
  }));

  test('Change SSH User… asks again: the new user is used (the Host entry follows), and a refused login names Change SSH User…', () => withLogs(async () => {
    const labels = await rowAction(new RegExp(`${BOX}\\s*online · yours`), 'Change SSH User…');
    assert.ok(labels.includes('Change SSH User…'));
    await vscode.waitForQuickInput(new RegExp(`SSH user for ${BOX}`));
    assert.equal(await vscode.page.locator('.quick-input-widget input.input').inputValue(), 'root', 'the tunnel\'s user is offered');
    await vscode.answerInput('nosuch-user', { prompt: new RegExp(`SSH user for ${BOX}`) });
    await vscode.waitForToast(new RegExp(`SSH to ${BOX} logs in as "nosuch-user" from now on .*; Host tether-${BOX} in ~/\\.ssh/tether/config says so too\\.`));
    assert.match(readFileSync(managedFile(), 'utf8'), new RegExp(`^Host tether-${BOX}\\n(  .*\\n)*  User nosuch-user\\n`, 'm'));
    await vscode.screenshot('ssh-user-changed');
    await vscode.clearToasts();

    // nosuch-user has no authorized key on the sshd: the login is refused, and the message says where the user came from.
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    const refused = await vscode.waitForToast(/SSH to box failed/);
    const message = await refused.innerText();
    assert.match(message, new RegExp(`the SSH user is "nosuch-user" \\(the user chosen for ${BOX}: "Tether: Change SSH User…" picks another, or set tether\\.ssh\\.user for every tunnel\\)`));
    assert.doesNotMatch(message, /at .*\.js:\d+/, 'no stack trace');
    await vscode.screenshot('ssh-auth-failed-names-change-user');
    await vscode.clearToasts();

    // Back to root from the palette; the terminal logs in again without asking.
    await vscode.runCommand('Tether: Change SSH User…');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    await vscode.answerInput('root', { prompt: new RegExp(`SSH user for ${BOX}`) });
    await vscode.waitForToast(/logs in as "root"/);
    await vscode.clearToasts();
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(BOX, { prompt: /Tunnel/ });
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('echo "third-$((40 + 2)) $(whoami)"');
    await vscode.waitForTerminalText(/^third-42 root$/m);
  }));

  test('with tether.ssh.user set, it wins: Change SSH User… says so instead of asking', () => withLogs(async () => {
    // In the workspace's settings (as a repository could set it): VS Code picks the file up by
    // itself; until it has, the command still asks.
    mkdirSync(join(vscode.folder, '.vscode'), { recursive: true });
    writeFileSync(join(vscode.folder, '.vscode/settings.json'), JSON.stringify({ 'tether.ssh.user': 'root' }));
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      await vscode.runCommand('Tether: Change SSH User…');
      await vscode.pickItem(BOX, { prompt: /Tunnel/ });
      const said = await vscode.waitForToast(/tether\.ssh\.user setting says "root"/, { timeout: 2000 }).catch(() => undefined);
      if (said) {
        assert.match(await said.innerText(), /used for every tunnel\. Clear it to choose a user per tunnel\./);
        assert.deepEqual(await vscode.toastActions(said), ['Open Settings']);
        break;
      }
      await vscode.closeQuickInput();
      if (Date.now() > deadline) throw new Error('the tether.ssh.user setting never took effect');
    }
    await vscode.screenshot('ssh-user-setting-wins');
    await vscode.clearToasts();
  }));
});
