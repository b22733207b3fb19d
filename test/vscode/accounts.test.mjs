// The Tether identity in VS Code's Accounts menu, the token copy for the ProxyCommand form,
// deleting a tunnel one owns, and the offline filter: the packaged extension in a real VS Code
// (code-server) driven through Chromium, against a real `tether relay` process. Each step saves a
// screenshot under test-output/vscode/. The steps share one VS Code and run in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createUser, freePort, Processes, requirePrograms, startRelay, startShare, tempDir } from '../e2e/fixtures.mjs';
import { HANG_GUARD, tetherVsix, UI_TIMEOUT_MS, VSCode } from './harness.mjs';

/** GET /v1/tunnels as `token`: the names the relay lists for that identity. */
async function relayTunnelNames(url, token) {
  const res = await fetch(`${url}/v1/tunnels`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET /v1/tunnels: ${res.status}`);
  return (await res.json()).tunnels.map((t) => t.name).sort();
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('Tether in VS Code\'s Accounts menu, Copy Token, Delete Tunnel, the offline filter', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-accounts-');
  let relay;
  let token;
  let vscode;
  let relayHost;
  /** A `tether share` process that keeps the tunnel "live" online from outside this window. */
  let liveShare;

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    relay = await startRelay(procs, dir.path);
    relayHost = relay.url.replace(/^http:\/\//, '');
    token = await createUser(relay, 'alice');
    // Alice's tunnels: two claimed by a share that ran once (offline now), one shared by the CLI
    // all along (online, not by this window). Nothing needs to listen on the target for that.
    const target = await freePort();
    for (const tunnel of ['old-box', 'spare']) await procs.stop(await startShare(procs, { url: relay.url, token, tunnel, targetPort: target }));
    liveShare = await startShare(procs, { url: relay.url, token, tunnel: 'live', targetPort: target });
    vscode = await new VSCode({ vsix, name: 'accounts', settings: { 'tether.relayUrl': relay.url, 'tether.logLevel': 'debug', 'tether.ssh.user': 'me' } }).start();
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

  /** Opens the Accounts menu (activity bar, bottom) and returns the labels of its items. */
  async function openAccountsMenu() {
    const { page } = vscode;
    await vscode.closeQuickInput();
    await page.keyboard.press('Escape');
    // The item, not its icon: a badge ("Sign in requested") lies over the icon.
    await page.locator('.part.activitybar .action-item').filter({ has: page.locator('a.action-label[aria-label^="Accounts"]') }).first().click();
    await page.locator('.monaco-menu .action-item:visible').first().waitFor();
    return menuLabels();
  }

  /** The labels of every open menu's items (the Accounts menu and an open submenu). */
  async function menuLabels() {
    return (await vscode.page.locator('.monaco-menu .action-item:visible .action-label').allInnerTexts()).map((l) => l.trim()).filter(Boolean);
  }

  /** Waits until an open menu shows an item matching `label`; returns its locator. */
  async function menuItem(label) {
    // Visible ones only: closed menus may stay in the page, hidden.
    const item = vscode.page.locator('.monaco-menu .action-item:visible').filter({ has: vscode.page.locator('.action-label', { hasText: label }) }).first();
    try {
      await item.waitFor();
    } catch (err) {
      throw new Error(`no menu item matching ${label} (the menu shows: ${(await menuLabels()).join(' | ')})`, { cause: err });
    }
    return item;
  }

  /** Reopens the Accounts menu until its labels satisfy `ok` (VS Code fills it as providers answer). */
  async function waitForAccountsMenu(ok, what) {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      const labels = await openAccountsMenu();
      if (ok(labels)) return labels;
      await closeMenu();
      if (Date.now() > deadline) throw new Error(`the Accounts menu never ${what} (it shows: ${labels.join(' | ')})`);
      await vscode.page.waitForTimeout(250);
    }
  }

  /**
   * The labels of the focused menu items (a submenu's parent stays focused while it is open, and
   * holds the submenu: each item's own label is its first).
   */
  async function focusedMenuLabels() {
    return vscode.page.locator('.monaco-menu .action-item.focused:visible').evaluateAll((items) => items.map((el) => el.querySelector('.action-label')?.textContent.trim() ?? ''));
  }

  /** Moves the menu's focus down (the keyboard's way) until the item matching `label` has it. */
  async function focusMenuItem(label) {
    await menuItem(label);
    for (let i = 0; i < 20; i++) {
      if ((await focusedMenuLabels()).some((l) => label.test(l))) return;
      await vscode.page.keyboard.press('ArrowDown');
    }
    throw new Error(`the keyboard never reached menu item ${label} (focused: ${(await focusedMenuLabels()).join(' | ')})`);
  }

  /** Runs a menu item as a keyboard user does; `parent` names the submenu it is in. */
  async function runMenuItem(label, parent) {
    if (parent) {
      await focusMenuItem(parent);
      await vscode.page.keyboard.press('ArrowRight');
    }
    await focusMenuItem(label);
    await vscode.page.keyboard.press('Enter');
  }

  async function closeMenu() {
    await vscode.page.keyboard.press('Escape');
    await vscode.page.keyboard.press('Escape');
    await vscode.page.locator('.monaco-menu:visible').first().waitFor({ state: 'detached' });
  }

  /** Clicks the button `label` of the dialog whose text matches `text` (without waiting for it to close). */
  async function clickDialogButton(text, label) {
    await vscode.waitForDialog(text);
    await vscode.page.locator('.monaco-dialog-box').filter({ hasText: text }).locator('.monaco-button', { hasText: new RegExp(`^${escape(label)}$`) }).click();
  }

  test('signed out: the Accounts menu offers Sign in with Tether', () => withLogs(async () => {
    // Once the extension is active (its status bar item shows), it asks VS Code for the offer.
    await vscode.waitForStatusBarItem(/Tether: not signed in/);
    await waitForAccountsMenu((labels) => labels.some((l) => /^Sign in with Tether to use Tether/.test(l)), 'offered Sign in with Tether');
    await vscode.screenshot('accounts-menu-signed-out');
    await closeMenu();
  }));

  test('signed in from the palette: the Accounts menu shows alice @ the relay, with Sign Out', () => withLogs(async () => {
    await vscode.runCommand('Tether: Sign In to Relay');
    await vscode.answerInput(relay.url, { prompt: /Relay URL/ });
    await vscode.answerInput(token, { prompt: /Token for/ });
    await vscode.waitForToast(/signed in to .* as alice/);
    await vscode.clearToasts();
    const account = `alice @ ${relayHost} (Tether)`;
    const labels = await openAccountsMenu();
    assert.ok(labels.includes(account), `Accounts menu: ${labels.join(' | ')}`);
    assert.ok(!labels.some((l) => /Sign in with Tether/.test(l)), 'the sign-in request is gone once signed in');
    await (await menuItem(account)).hover();
    await menuItem(/^Sign Out$/);
    await vscode.screenshot('accounts-menu-signed-in');
    await closeMenu();
  }));

  test('Copy Token: a modal warning first, then exactly the token on the clipboard', () => withLogs(async () => {
    await vscode.runCommand('Tether: Copy Token');
    const text = await vscode.waitForDialog(/Copy the token for alice @/);
    assert.match(text, new RegExp(`Anyone holding it can act as alice on ${escape(relayHost)}\\.`));
    await vscode.screenshot('copy-token-warning');
    await vscode.answerDialog('Cancel');
    assert.equal((await vscode.toastTexts()).length, 0, 'cancelled: nothing copied, nothing said');

    await vscode.runCommand('Tether: Copy Token');
    await vscode.waitForDialog(/Copy the token for alice @/);
    await vscode.answerDialog('Copy');
    await vscode.waitForToast(new RegExp(`the token for alice @ ${escape(relayHost)} is on the clipboard`));
    assert.equal(await vscode.pasteIntoNewEditor('pasted-token'), token);
    await vscode.clearToasts();
  }));

  test('the ProxyCommand copy offers the TETHER_TOKEN export line, behind the same warning', () => withLogs(async () => {
    await vscode.runCommand('Tether: Copy SSH Command');
    await vscode.pickItem('live', { prompt: /Tunnel/ });
    await vscode.pickItem('ProxyCommand', { prompt: /Copy SSH Command for live/ });
    const toast = await vscode.waitForToast(/Copied: ssh -o .*TETHER_TOKEN/);
    assert.deepEqual(await vscode.toastActions(toast), ['Copy TETHER_TOKEN Export']);
    await vscode.clickToastAction(toast, 'Copy TETHER_TOKEN Export');
    await vscode.waitForDialog(/Copy the TETHER_TOKEN export line for alice @/);
    await vscode.answerDialog('Copy');
    await vscode.waitForToast(/TETHER_TOKEN export line is on the clipboard/);
    assert.equal(await vscode.pasteIntoNewEditor('pasted-token-export'), `export TETHER_TOKEN=${token}`);
    await vscode.clearToasts();
  }));

  test('Delete Tunnel… on an offline tunnel I own: a modal, then the relay no longer lists it', () => withLogs(async () => {
    // (No Refresh here: a click that lands while the view re-renders finds its item's command gone.)
    await vscode.openViewContainer('Tether');
    await vscode.waitForSideBarRow(/old-box\s*offline · yours/);
    await vscode.clickSideBarRow(/old-box\s*offline · yours/);
    await vscode.waitForQuickInput(/Action/);
    assert.deepEqual((await vscode.quickPickLabels()).map((l) => l.trim()), ['Open SSH Terminal', 'Open in Remote-SSH Window', 'Copy SSH Command', 'Change SSH User…', 'Manage Sharing…', 'Delete Tunnel…']);
    await vscode.pickItem(/Delete Tunnel…$/);
    const text = await vscode.waitForDialog(/Delete tunnel old-box on/);
    assert.match(text, /anyone may claim it afterwards/);
    await vscode.screenshot('delete-tunnel-confirm');
    await vscode.answerDialog('Delete');
    await vscode.waitForToast(/deleted old-box; the name is free again/);
    assert.deepEqual(await relayTunnelNames(relay.url, token), ['live', 'spare']);
    await vscode.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: /old-box/ }).first().waitFor({ state: 'detached' });
    await vscode.screenshot('tunnel-deleted');
    await vscode.clearToasts();
  }));

  test('Delete Tunnel… from the palette on a tunnel shared elsewhere: the relay\'s refusal, as a sentence', () => withLogs(async () => {
    // An online tunnel's menu does not offer Delete (the relay would refuse): the palette asks anyway.
    await vscode.clickSideBarRow(/live\s*online · yours/);
    await vscode.waitForQuickInput(/Action/);
    assert.deepEqual((await vscode.quickPickLabels()).map((l) => l.trim()), ['Open SSH Terminal', 'Connect (local port)', 'Open in Browser', 'Open in Remote-SSH Window', 'Copy SSH Command', 'Change SSH User…', 'Manage Sharing…']);
    await vscode.closeQuickInput();
    await vscode.runCommand('Tether: Delete Tunnel…');
    await vscode.waitForQuickInput(/Tunnel you own/);
    assert.deepEqual(await vscode.quickPickLabels(), ['live', 'spare']);
    await vscode.pickItem('live');
    await vscode.waitForDialog(/Delete tunnel live on/);
    await vscode.answerDialog('Delete');
    const toast = await vscode.waitForToast(/Tunnel live is being shared right now: stop sharing it first\./);
    assert.doesNotMatch(await toast.innerText(), /TETHER_ERR|Error|at /);
    await vscode.screenshot('delete-tunnel-refused');
    assert.deepEqual(await relayTunnelNames(relay.url, token), ['live', 'spare']);
    await vscode.clearToasts();
  }));

  test('Hide Offline Tunnels: the offline one goes, the group says how many are hidden, also after a reload; Show brings it back', () => withLogs(async () => {
    await vscode.waitForSideBarRow(/spare\s*offline · yours/);
    await vscode.page.locator('.part.sidebar .composite.title .action-label[aria-label="Hide Offline Tunnels"]').click();
    await vscode.waitForSideBarRow(/Tunnels I can reach\s*1 · 1 offline hidden/);
    await vscode.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: /spare/ }).first().waitFor({ state: 'detached' });
    await vscode.waitForSideBarRow(/live\s*online · yours/);
    await vscode.screenshot('offline-hidden');
    // The title now offers the opposite, and the palette too.
    await vscode.page.locator('.part.sidebar .composite.title .action-label[aria-label="Show Offline Tunnels"]').waitFor();
    // Remembered: after Developer: Reload Window the view still hides them, and says so.
    await vscode.runCommand('Developer: Reload Window');
    await vscode.waitForStatusBarItem(`Tether: ${relayHost}`);
    // The reloaded workbench reopens the Tether view (a click on its icon would close it).
    await vscode.waitForSideBarRow(/Tunnels I can reach\s*1 · 1 offline hidden/);
    await vscode.page.locator('.part.sidebar .composite.title .action-label[aria-label="Show Offline Tunnels"]').waitFor();
    await vscode.runCommand('Tether: Show Offline Tunnels');
    await vscode.waitForSideBarRow(/spare\s*offline · yours/);
    await vscode.waitForSideBarRow(/Tunnels I can reach\s*2\b/);
  }));

  test('Delete Tunnel… from the palette on my tunnel this window shares: stop sharing first, nothing deleted', () => withLogs(async () => {
    // The relay's own port stands in for a local service: something listens there.
    await vscode.runCommand('Tether: Share Local Port…');
    await vscode.answerInput(relayHost, { prompt: /Local service to share/ });
    await vscode.answerInput('spare', { prompt: /Tunnel name for/ });
    await vscode.waitForToast(/sharing .* as "spare"/);
    await vscode.clearToasts();
    await vscode.waitForSideBarRow(/spare\s*online · yours/);
    await vscode.runCommand('Tether: Delete Tunnel…');
    await vscode.pickItem('spare', { prompt: /Tunnel you own/ });
    const toast = await vscode.waitForToast(/this window shares spare\. Stop sharing it first, then delete it\./);
    assert.deepEqual(await vscode.toastActions(toast), ['Stop Sharing']);
    await vscode.screenshot('delete-tunnel-shared-here');
    assert.deepEqual(await relayTunnelNames(relay.url, token), ['live', 'spare']);
    await vscode.clearToasts();
  }));

  test('Sign Out in the Accounts menu asks what Tether: Sign Out asks when something would stop', () => withLogs(async () => {
    // Something to stop: the share from the step before, and a local listener for the live tunnel.
    await vscode.runCommand('Tether: Connect to Tunnel…');
    await vscode.pickItem('live', { prompt: /Tunnel/ });
    await vscode.waitForToast(/live is on 127\.0\.0\.1:\d+/);
    await vscode.clearToasts();
    const account = `alice @ ${relayHost} (Tether)`;
    const signOut = async () => {
      await openAccountsMenu();
      await runMenuItem(/^Sign Out$/, new RegExp(`^${escape(account)}$`));
      // VS Code's own question first, then Tether's.
      await clickDialogButton(new RegExp(`Sign out of '${escape(`alice @ ${relayHost}`)}'|has been used by`), 'Sign Out');
    };
    await signOut();
    await vscode.waitForDialog(/Signing out stops sharing spare and closes a connection\. Continue\?/);
    await vscode.screenshot('accounts-sign-out-confirm');
    await vscode.answerDialog('Cancel');
    // Declined: still signed in, in the status bar and the Accounts menu.
    await vscode.waitForStatusBarItem(/Tether: sharing 1 · connected/);
    assert.ok((await openAccountsMenu()).includes(account), 'still in the Accounts menu');
    await closeMenu();

    await signOut();
    await clickDialogButton(/Signing out stops sharing spare and closes a connection\. Continue\?/, 'Sign Out');
    await vscode.waitForStatusBarItem(/Tether: not signed in/);
    const labels = await waitForAccountsMenu((l) => l.some((x) => /^Sign in with Tether to use Tether/.test(x)), 'offered Sign in with Tether again');
    assert.ok(!labels.includes(account), `signed out, yet the Accounts menu shows ${account}`);
    await vscode.screenshot('accounts-menu-signed-out-again');
    await closeMenu();
  }));

  test('Sign in with Tether in the Accounts menu runs the Tether sign-in', () => withLogs(async () => {
    // Cancelled at the first box: nothing said, and the offer stays.
    await openAccountsMenu();
    await runMenuItem(/^Sign in with Tether to use Tether/);
    await vscode.waitForQuickInput(/Relay URL/);
    await vscode.closeQuickInput();
    await vscode.page.waitForTimeout(1000);
    assert.deepEqual(await vscode.toastTexts(), [], 'a cancelled sign-in shows no notification');
    await vscode.waitForStatusBarItem(/Tether: not signed in/);

    await waitForAccountsMenu((l) => l.some((x) => /^Sign in with Tether to use Tether/.test(x)), 'kept the offer after a cancelled sign-in');
    await runMenuItem(/^Sign in with Tether to use Tether/);
    await vscode.answerInput(relay.url, { prompt: /Relay URL/ });
    await vscode.answerInput(token, { prompt: /Token for/ });
    await vscode.waitForToast(/signed in to .* as alice/);
    await vscode.waitForStatusBarItem(`Tether: ${relayHost}`);
    assert.ok((await openAccountsMenu()).includes(`alice @ ${relayHost} (Tether)`));
    // The mouse on the account (not on the activity bar, whose tooltip would hide it).
    await (await menuItem(`alice @ ${relayHost} (Tether)`)).hover();
    await vscode.screenshot('accounts-menu-signed-in-from-menu');
    await closeMenu();
    await procs.stop(liveShare);
  }));
});
