// A real VS Code for the extension's integration tests: code-server 4.100.3 (VS Code 1.100.3,
// installed by install-code-server.sh into its own folder) with a .vsix installed, driven through
// Debian's Chromium with playwright-core the way a person would: the command palette, input boxes,
// quick picks, notifications, the status bar, the terminal. Every file lives in a temporary
// folder, code-server is stopped by its PID, and screenshots go to test-output/vscode/.
import { once } from 'node:events';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { freePort, Processes, run, tempDir } from '../e2e/fixtures.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const CODE_SERVER_VERSION = '4.100.3';
export const SCREENSHOTS = join(ROOT, 'test-output/vscode');
const execFileAsync = promisify(execFile);
const INSTALLER = join(ROOT, 'test/vscode/install-code-server.sh');
/** Guard against a UI that never shows what a step waits for: not a timing threshold. */
export const UI_TIMEOUT_MS = 30_000;
/**
 * VS Code shows at most 3 new toasts per 800 ms (NotificationsToasts.SPAM_PROTECTION); the rest
 * go only to the notification center. A person reads a toast before acting on it: the harness
 * lets this long pass after the last toast it saw before it runs the next command or action,
 * so a step's toasts cannot be swallowed by the previous step's. Pacing, not a threshold.
 */
const TOAST_SPAM_INTERVAL_MS = 800;
/** node:test option for each suite: a hung browser or server fails the suite, not the CI job. */
export const HANG_GUARD = { timeout: 600_000 };

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** User settings for a quiet, predictable workbench (callers add their own on top). */
const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'window.restoreWindows': 'none',
  // The DOM renderer keeps the terminal's text readable from the page (no GPU here anyway).
  'terminal.integrated.gpuAcceleration': 'off',
  'terminal.integrated.enablePersistentSessions': false,
  'terminal.integrated.showExitAlert': false,
  // code-server offers to forward every port a process opens: the tests' own listeners are not for it.
  'remote.autoForwardPorts': false,
};

/**
 * Runs install-code-server.sh (a no-op when code-server is already installed) and returns the
 * path of code-server's entry script. Fails loudly (never skips) when a program is missing.
 */
export async function ensureCodeServer() {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`the VS Code suite needs ${CHROMIUM} (Debian package chromium); .ci/run installs it with apt-get`);
  }
  const r = await run('bash', [INSTALLER]);
  if (r.code !== 0) throw new Error(`install-code-server.sh failed (${r.code}):\n${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1);
}

/**
 * Packages an extension folder with @vscode/vsce (from the workspace's node_modules) and
 * returns the .vsix path. For the Tether extension itself use `npm run package`.
 */
export async function packageExtension(folder, out) {
  const vsce = join(ROOT, 'node_modules/@vscode/vsce/vsce');
  try {
    await execFileAsync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out], { cwd: folder });
  } catch (err) {
    throw new Error(`vsce package failed in ${folder}:\n${err.stdout ?? ''}${err.stderr ?? err.message}`, { cause: err });
  }
  return out;
}

/** The newest tether-<version>.vsix that `npm run package` wrote at the repository root. */
export function tetherVsix() {
  const version = JSON.parse(readFileSync(join(ROOT, 'extension/package.json'), 'utf8')).version;
  const path = join(ROOT, `tether-${version}.vsix`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    const found = readdirSync(ROOT).filter((f) => /^tether-.*\.vsix$/.test(f));
    throw new Error(`${path} is missing: 'npm run package' should write it (found: ${found.join(', ') || 'no tether-*.vsix'})`);
  }
  return path;
}

let shotNumber = 0;

/** The first line a TCP server sends (an SSH server's identification string). */
export async function banner(port) {
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

/**
 * code-server with one extension installed, and a Chromium page showing its workbench.
 * `start()` resolves once the workbench and the explorer show.
 */
export class VSCode {
  /**
   * @param {object} options
   * @param {string} options.vsix  the extension to install
   * @param {object} [options.settings]  user settings on top of quiet defaults
   * @param {Record<string, string>} [options.files]  files of the opened folder (name → text)
   * @param {string} [options.name]  prefix of this instance's screenshots
   */
  constructor({ vsix, settings = {}, files = { 'README.md': '# Workspace\n' }, name = 'vscode' }) {
    this.vsix = vsix;
    this.settings = settings;
    this.files = files;
    this.name = name;
    this.procs = new Processes();
    this.dir = tempDir('tether-vscode-');
    this.home = join(this.dir.path, 'home');
    this.userDataDir = join(this.dir.path, 'user-data');
    this.extensionsDir = join(this.dir.path, 'extensions');
    this.configFile = join(this.dir.path, 'code-server.yaml');
    this.folder = join(this.dir.path, 'workspace');
    this.context = undefined;
    this.page = undefined;
    this.server = undefined;
    this.pageErrors = [];
    this.lastToastAt = 0;
  }

  /** Waits out VS Code's toast spam interval since the last toast seen (see TOAST_SPAM_INTERVAL_MS). */
  async paceToasts() {
    const wait = this.lastToastAt + TOAST_SPAM_INTERVAL_MS - Date.now();
    if (wait > 0) await this.page.waitForTimeout(wait);
  }

  /** Environment of every code-server command: its own HOME and XDG folders, no gallery. */
  env() {
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('TETHER_') || key.startsWith('VSCODE_') || key === 'SSH_AUTH_SOCK') delete env[key];
    return {
      ...env,
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_DATA_HOME: join(this.home, '.local/share'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      EXTENSIONS_GALLERY: '{}',
    };
  }

  async start() {
    const entry = await ensureCodeServer();
    for (const d of [this.home, join(this.userDataDir, 'User'), this.extensionsDir, this.folder]) mkdirSync(d, { recursive: true });
    for (const [file, text] of Object.entries(this.files)) {
      mkdirSync(dirname(join(this.folder, file)), { recursive: true });
      writeFileSync(join(this.folder, file), text);
    }
    writeFileSync(join(this.userDataDir, 'User/settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...this.settings }, null, 2));
    writeFileSync(this.configFile, 'auth: none\ncert: false\n');
    const common = ['--config', this.configFile, '--user-data-dir', this.userDataDir, '--extensions-dir', this.extensionsDir];

    const installed = await run(process.execPath, [entry, ...common, '--install-extension', this.vsix], { env: this.env() });
    if (installed.code !== 0 || !/was successfully installed/.test(installed.stdout + installed.stderr)) {
      throw new Error(`code-server --install-extension ${this.vsix} failed (${installed.code}):\n${installed.stdout}${installed.stderr}`);
    }

    // A port picked here can be taken before code-server binds it: try a few.
    let lastError;
    for (let attempt = 0; attempt < 3 && this.server === undefined; attempt++) {
      const port = await freePort();
      const proc = this.procs.start(process.execPath, [entry, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
        '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', this.folder], { env: this.env() });
      try {
        await proc.waitFor('stdout', /HTTP server listening on http:\/\/127\.0\.0\.1:\d+/);
        this.server = proc;
        this.url = `http://127.0.0.1:${port}/`;
      } catch (err) {
        lastError = err;
        await this.procs.stop(proc);
      }
    }
    if (this.server === undefined) throw lastError;

    const profile = join(this.dir.path, 'chromium-profile');
    mkdirSync(profile);
    this.context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      env: this.env(),
    });
    this.context.setDefaultTimeout(UI_TIMEOUT_MS);
    // VS Code's clipboard in a browser is navigator.clipboard: let the page use it, as a person's browser would.
    await this.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(this.url).origin });
    this.page = this.context.pages()[0] ?? await this.context.newPage();
    this.page.on('pageerror', (err) => this.pageErrors.push(err.message));
    await this.page.goto(this.url);
    await this.page.locator('.monaco-workbench').waitFor();
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor();
    return this;
  }

  /** Runs a command from the palette as a person would: F1, its title, Enter. */
  async runCommand(title, { timeout = UI_TIMEOUT_MS } = {}) {
    const { page } = this;
    await this.paceToasts();
    await this.closeQuickInput();
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    // Wait until the list shows exactly this command, so Enter cannot run another one.
    const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
    try {
      await row.first().waitFor({ timeout });
    } catch (err) {
      const shown = await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
      throw new Error(`the command palette has no command "${title}" (it shows: ${shown.join(' | ') || 'nothing'})`, { cause: err });
    }
    await row.first().click();
  }

  /** Closes the quick input if it is still open (Escape). */
  async closeQuickInput() {
    if (await this.page.locator('.quick-input-widget').isVisible()) await this.page.keyboard.press('Escape');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /**
   * Types `text` into the input box that is showing and presses Enter. `prompt` (a RegExp) waits
   * for the box whose prompt, title or placeholder matches, so an answer never lands in the box
   * of the previous step.
   */
  async answerInput(text, { prompt } = {}) {
    const { page } = this;
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    if (prompt !== undefined) await this.waitForQuickInput(prompt);
    else await input.waitFor();
    await input.fill(text);
    await input.press('Enter');
  }

  /** Waits for a quick input whose title, prompt or placeholder matches `prompt`. */
  async waitForQuickInput(prompt) {
    const { page } = this;
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      const texts = await page.locator('.quick-input-widget').evaluate((w) => {
        if (w.style.display === 'none') return [];
        const q = (s) => w.querySelector(s);
        return [q('.quick-input-title')?.textContent ?? '', q('.quick-input-message')?.textContent ?? '', q('input.input')?.getAttribute('placeholder') ?? '', q('input.input')?.getAttribute('aria-label') ?? ''];
      }, undefined, { timeout: 1000 }).catch(() => []);
      if (texts.some((t) => prompt.test(t))) return;
      // A command that failed before it asked says so in a toast: the message carries it.
      if (Date.now() > deadline) throw new Error(`no input box matching ${prompt} appeared (showing: ${JSON.stringify(texts)}; ${await this.notificationsDiagnosis()})`);
      await page.waitForTimeout(100);
    }
  }

  /** Picks the quick-pick row whose label matches `label` (a string is an exact label). */
  async pickItem(label, { prompt } = {}) {
    const { page } = this;
    if (prompt !== undefined) await this.waitForQuickInput(prompt);
    const name = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}$`) : label;
    const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: name }) });
    try {
      await row.first().waitFor();
    } catch (err) {
      const shown = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
      throw new Error(`no quick-pick item ${name} (it shows: ${shown.map((s) => s.replace(/\s+/g, ' ')).join(' | ') || 'nothing'})`, { cause: err });
    }
    await row.first().click();
  }

  /** The labels the open quick pick shows. */
  async quickPickLabels() {
    // The first label of each row: a row's detail line has a .label-name of its own.
    return this.page.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) => rows.map((row) => row.querySelector('.label-name')?.textContent ?? ''));
  }

  /** Waits for a notification toast whose text matches `text`; returns its locator. */
  async waitForToast(text, { timeout = UI_TIMEOUT_MS } = {}) {
    const toast = this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: text });
    try {
      await toast.first().waitFor({ timeout });
    } catch (err) {
      throw new Error(`no notification matching ${text} appeared (showing: ${JSON.stringify(await this.toastTexts())}; ${await this.notificationsDiagnosis()})`, { cause: err });
    }
    this.lastToastAt = Date.now();
    return toast.first();
  }

  /** For a failure message: the notification center's state and what it holds. */
  async notificationsDiagnosis() {
    const { page } = this;
    try {
      const bell = await page.locator('#status\\.notifications').getAttribute('aria-label', { timeout: 1000 });
      const centerVisible = await page.locator('.notifications-center.visible').count() > 0;
      const toastsDom = await page.locator('.notifications-toasts').evaluateAll((all) => all.map((t) => `${t.className}: ${[...t.querySelectorAll('.notification-toast-container')].map((c) => `${c.offsetHeight}px ${c.innerText.slice(0, 60)}`).join(' | ')}`));
      await this.runCommand('Notifications: Show Notifications', { timeout: 5000 });
      await page.waitForTimeout(300);
      const held = await page.locator('.notifications-center .notification-list-item-message').allInnerTexts();
      await this.runCommand('Notifications: Hide Notifications', { timeout: 5000 });
      return `toasts DOM: ${JSON.stringify(toastsDom)}; bell: ${bell}; center was ${centerVisible ? 'visible' : 'hidden'}; the center holds ${JSON.stringify(held)}`;
    } catch (err) {
      return `no notification diagnosis: ${err.message.split('\n')[0]}`;
    }
  }

  /** The texts of the toasts that show now. */
  async toastTexts() {
    return this.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
  }

  /** The labels of the buttons (actions) of a toast. */
  async toastActions(toast) {
    return toast.locator('.monaco-button').allInnerTexts();
  }

  /** Clicks the action `label` of a toast. */
  async clickToastAction(toast, label) {
    await this.paceToasts();
    await toast.locator('.monaco-button', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }).click();
  }

  /** Closes every toast that shows (the "Clear All Notifications" command). */
  async clearToasts() {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'hidden' });
  }

  /** Waits for a dialog (a modal message) whose text matches `text`; returns its text. */
  async waitForDialog(text) {
    const dialog = this.page.locator('.monaco-dialog-box').filter({ hasText: text });
    try {
      await dialog.first().waitFor();
    } catch (err) {
      throw new Error(`no dialog matching ${text} appeared (toasts: ${JSON.stringify(await this.toastTexts())})`, { cause: err });
    }
    return dialog.first().innerText();
  }

  /** Clicks the button `label` of the dialog that shows. */
  async answerDialog(label) {
    const button = this.page.locator('.monaco-button', { hasText: new RegExp(`^${escapeRegExp(label)}$`) });
    // This dialog's own element: the next dialog may show before a poll sees none at all.
    const box = await this.page.locator('.monaco-dialog-box').filter({ has: button }).first().elementHandle({ timeout: UI_TIMEOUT_MS });
    await this.page.locator('.monaco-dialog-box').locator(button).first().click();
    await box.waitForElementState('hidden', { timeout: UI_TIMEOUT_MS });
  }

  /** Opens the view container whose activity bar entry is labelled `title` (e.g. "Tether"). */
  async openViewContainer(title) {
    await this.page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${title}"]`).first().click();
    await this.page.locator('.part.sidebar .composite.title', { hasText: new RegExp(escapeRegExp(title), 'i') }).first().waitFor();
  }

  /** Waits for a row of the side bar's trees whose text matches `text`; returns its text. */
  async waitForSideBarRow(text) {
    const row = this.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: text });
    try {
      await row.first().waitFor();
    } catch (err) {
      const rows = await this.page.locator('.part.sidebar .monaco-list-row').allInnerTexts();
      throw new Error(`the side bar shows no row matching ${text} (rows: ${rows.map((r) => r.replace(/\s+/g, ' ')).join(' | ')})`, { cause: err });
    }
    return (await row.first().innerText()).replace(/\s+/g, ' ');
  }

  /** What a screen reader announces for the status bar item whose text matches `text`. */
  async statusBarAriaLabel(text) {
    const item = await this.waitForStatusBarItem(text);
    // The item's accessible element is the item itself or its link, depending on the version.
    return item.evaluate((el) => el.getAttribute('aria-label') ?? el.querySelector('[aria-label]')?.getAttribute('aria-label') ?? '');
  }

  /** Clicks the side bar row whose text matches `text` (which selects it, and focuses its tree). */
  async clickSideBarRow(text) {
    const row = this.page.locator('.part.sidebar .monaco-list-row').filter({ hasText: text }).first();
    await row.waitFor();
    await row.click();
  }

  /** Presses a key in whatever has the focus (the tree after clickSideBarRow, say). */
  async press(key) {
    await this.page.keyboard.press(key);
  }

  /** The whole status bar's text, item by item. */
  async statusBarText() {
    return (await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts()).map((s) => s.trim()).filter(Boolean).join(' | ');
  }

  /** Waits for a status bar item whose text matches `text`; returns its locator. */
  async waitForStatusBarItem(text) {
    const item = this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: text });
    try {
      await item.first().waitFor();
    } catch (err) {
      throw new Error(`no status bar item matching ${text} (status bar: ${await this.statusBarText()})`, { cause: err });
    }
    return item.first();
  }

  /**
   * The status bar item whose text matches `text` once its text matches `pattern` and its
   * warning background is on or off as `warning` asks; returns its text.
   */
  async waitForStatusBarState(text, pattern, { warning }) {
    const item = this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: text }).first();
    const deadline = Date.now() + UI_TIMEOUT_MS;
    let seen;
    for (;;) {
      seen = await item.evaluate((el) => ({ text: el.innerText.trim(), warning: el.classList.contains('warning-kind') }), undefined, { timeout: 1000 }).catch(() => undefined);
      if (seen && pattern.test(seen.text) && seen.warning === warning) return seen.text;
      if (Date.now() > deadline) throw new Error(`the status bar item ${text} never showed ${pattern} ${warning ? 'on' : 'without'} a warning background (it shows: ${JSON.stringify(seen)}; status bar: ${await this.statusBarText()})`);
      await this.page.waitForTimeout(200);
    }
  }

  /**
   * Pastes the clipboard (Ctrl+V) into a new untitled editor, as a person checking what was
   * copied would; returns the editor's text and closes the editor unsaved. `step` names the
   * screenshot taken of the pasted text.
   */
  async pasteIntoNewEditor(step = 'pasted') {
    const { page } = this;
    await this.runCommand('File: New Untitled Text File');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines').waitFor();
    await editor.locator('textarea, .native-edit-context').first().focus();
    await page.keyboard.press('Control+V');
    const deadline = Date.now() + UI_TIMEOUT_MS;
    let text;
    for (;;) {
      text = (await editor.locator('.view-lines .view-line').allInnerTexts()).map((line) => line.replace(/\u00a0/g, ' ')).join('\n').trim();
      if (text !== '') break;
      if (Date.now() > deadline) throw new Error('Ctrl+V pasted nothing into the new editor');
      await page.waitForTimeout(100);
    }
    await this.screenshot(step);
    await this.runCommand('View: Revert and Close Editor');
    return text;
  }

  /**
   * Changes user settings as someone editing settings.json would: VS Code watches the file and
   * applies it. Waits until the file is read back by the workbench (a short settle, not a check).
   */
  async updateSettings(patch, { applied } = {}) {
    // Through the settings.json editor: code-server does not notice the file written behind its back.
    const mark = this.logMark();
    this.settings = { ...this.settings, ...patch };
    const { page } = this;
    await this.runCommand('Preferences: Open User Settings (JSON)');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines').waitFor();
    await editor.locator('textarea, .native-edit-context').first().focus();
    await page.evaluate((text) => globalThis.navigator.clipboard.writeText(text), JSON.stringify({ ...BASE_SETTINGS, ...this.settings }, null, 2));
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+V');
    await page.keyboard.press('Control+S');
    if (applied) await this.waitForExtensionLog(applied, { mark });
    await this.runCommand('View: Close Editor');
  }

  /** The Tether output channel's log file(s) of this run, joined. */
  extensionLog() {
    return [...walk(join(this.userDataDir, 'logs'))].filter((f) => /\.tether\/Tether\.log$/.test(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
  }

  /** Where the extension's log stands now: pass it to waitForExtensionLog to look from there. */
  logMark() {
    return this.extensionLog().split('\n').length;
  }

  /**
   * Waits until the extension has logged a line matching `pattern` after `mark` (logMark();
   * default: from now). Returns the line.
   */
  async waitForExtensionLog(pattern, { mark = this.logMark() } = {}) {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      const match = this.extensionLog().split('\n').slice(mark - 1).find((l) => pattern.test(l));
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`the extension never logged ${pattern}`);
      await this.page.waitForTimeout(200);
    }
  }

  /** The text the active terminal shows (xterm's DOM rows), lines joined with \n. */
  async terminalText() {
    const rows = this.page.locator('.terminal-wrapper.active .xterm-rows > div');
    return (await rows.allInnerTexts()).map((line) => line.replace(/\u00a0/g, ' ').trimEnd()).join('\n').trimEnd();
  }

  /** Waits until the active terminal shows text matching `pattern`; returns the whole text. */
  async waitForTerminalText(pattern) {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    for (;;) {
      const text = await this.terminalText();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${text}`);
      await this.page.waitForTimeout(200);
    }
  }

  /** Types into the focused terminal and presses Enter. */
  async typeInTerminal(line) {
    await this.page.locator('.terminal-wrapper.active .xterm').click();
    await this.page.keyboard.type(line);
    await this.page.keyboard.press('Enter');
  }

  /** Saves a screenshot (animations stopped) as test-output/vscode/NN-<name>-<step>.png. */
  async screenshot(step) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    shotNumber += 1;
    const path = join(SCREENSHOTS, `${String(shotNumber).padStart(2, '0')}-${this.name}-${step}.png`);
    await this.page.screenshot({ path, animations: 'disabled' });
    return path;
  }

  /** Signs in to `relayUrl` with `token` and shares the local SSH server on `sshPort` as `tunnel`. */
  async signInAndShare({ relayUrl, token, tunnel, sshPort }) {
    await this.runCommand('Tether: Sign In to Relay');
    await this.answerInput(relayUrl, { prompt: /Relay URL/ });
    await this.answerInput(token, { prompt: /Token for/ });
    await this.waitForToast(/signed in to .* as alice/);
    await this.runCommand('Tether: Share Local SSH Server');
    await this.answerInput(tunnel, { prompt: /Tunnel name/ });
    await this.waitForToast(`sharing 127.0.0.1:${sshPort} as "${tunnel}"`);
    await this.waitForStatusBarItem(/Tether: sharing 1/);
  }

  /** Runs `step`; on failure saves a screenshot and adds what the extension host logged to the error. */
  async withLogs(step) {
    try {
      await step();
    } catch (err) {
      await this.screenshot('failure').catch(() => undefined);
      err.message += `\n\n--- logs ---\n${this.logs()}`;
      throw err;
    }
  }

  /** What the extension host and code-server logged: for failure messages. */
  logs() {
    const parts = [`code-server output:\n${this.server?.stdout.text ?? ''}${this.server?.stderr.text ?? ''}`];
    for (const file of walk(join(this.userDataDir, 'logs'))) {
      if (/exthost|Tether|tether/.test(file)) parts.push(`${file}:\n${readFileSync(file, 'utf8').slice(-4000)}`);
    }
    if (this.pageErrors.length > 0) parts.push(`page errors:\n${this.pageErrors.join('\n')}`);
    return parts.join('\n\n');
  }

  /**
   * Closes the browser, stops code-server by its PID, then any of its processes that outlive it
   * (the extension host, the pty host: each by its PID), and removes every file.
   */
  async stop() {
    try {
      await this.context?.close();
    } finally {
      try {
        const children = this.server ? descendants(this.server.pid) : [];
        await this.procs.stopAll();
        await stopPids(children);
      } finally {
        this.dir.dispose();
      }
    }
  }
}

/** PIDs of every process below `pid` (from /proc), deepest last. */
function descendants(pid) {
  const parentOf = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (field 2) is in parentheses and may hold spaces: read after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  const found = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to each PID still running, SIGKILL to any still there after a grace period. */
async function stopPids(pids) {
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 10_000 && pids.some(alive); waited += 100) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

function* walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
