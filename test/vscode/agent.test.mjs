// SSH agent forwarding from the packaged extension's SSH terminal, in a real VS Code (code-server):
// a real `ssh-agent` holding a fresh key (the only key the shared sshd accepts, so the login itself
// goes through the agent), a real `tether relay` and Debian's sshd, all on 127.0.0.1. With
// tether.agent.forward on, `ssh-add -l` on the far side lists the agent's key; with it off, the far
// side has no agent. Screenshots go to test-output/vscode/.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, createUser, Processes, requirePrograms, run, startRelay, startSshd, tempDir, waitForSocket } from '../e2e/fixtures.mjs';
import { HANG_GUARD, tetherVsix, UI_TIMEOUT_MS, VSCode } from './harness.mjs';

const TUNNEL = 'laptop';
const NO_AGENT = 'Could not open a connection to your authentication agent';


describe('Tether in a real VS Code: the SSH terminal signs in with ssh-agent and forwards it when tether.agent.forward is on', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-agent-');
  const agentSocket = join(dir.path, 'agent.sock');
  let agent;
  let relay;
  let sshd;
  let token;
  let vscode;
  /** The agent key's fingerprint as `ssh-keygen -lf` prints it (SHA256:…). */
  let fingerprint;

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    [relay, sshd] = await Promise.all([startRelay(procs, dir.path), startSshd(procs, dir.path)]);
    token = await createUser(relay, 'alice');

    // A fresh key, held only by a real ssh-agent, and the only key the sshd accepts.
    const key = join(dir.path, 'agent_key');
    const gen = await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tether-vscode-agent', '-f', key]);
    assert.equal(gen.code, 0, gen.stderr);
    writeFileSync(join(dir.path, 'authorized_keys'), readFileSync(`${key}.pub`));
    const listed = await run('/usr/bin/ssh-keygen', ['-lf', `${key}.pub`]);
    assert.equal(listed.code, 0, listed.stderr);
    fingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(listed.stdout)?.[0];
    assert.ok(fingerprint, `ssh-keygen -lf printed a fingerprint: ${listed.stdout}`);
    agent = procs.start('/usr/bin/ssh-agent', ['-D', '-a', agentSocket], { env: cleanEnv() });
    await waitForSocket(agentSocket, agent.exited, UI_TIMEOUT_MS);
    const added = await run('/usr/bin/ssh-add', [key], { env: cleanEnv({ SSH_AUTH_SOCK: agentSocket }) });
    assert.equal(added.code, 0, `ssh-add: ${added.stderr}`);

    vscode = await new VSCode({
      vsix,
      name: 'agent',
      // No tether.ssh.identityFile and no key in VS Code's home: the login goes through the agent.
      settings: {
        'tether.relayUrl': relay.url,
        'tether.ssh.targetPort': sshd.port,
        'tether.ssh.user': 'root',
        'tether.agent.forward': true,
        'tether.agent.socketPath': agentSocket,
        'tether.logLevel': 'debug',
      },
    }).start();
    for (const file of ['id_ed25519', 'id_ecdsa', 'id_rsa']) assert.ok(!existsSync(join(vscode.home, '.ssh', file)), `no ~/.ssh/${file} in VS Code's home`);
  });

  after(async () => {
    try {
      await vscode?.stop();
    } finally {
      try {
        if (agent) await procs.stop(agent);
        await procs.stopAll();
      } finally {
        dir.dispose();
      }
    }
  });

  const withLogs = (step) => vscode.withLogs(step);

  /** The user settings file as VS Code wrote it. */
  // VS Code rewrites settings.json in place: a read can catch it empty or half written.
  const userSettings = async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        return JSON.parse(readFileSync(join(vscode.userDataDir, 'User/settings.json'), 'utf8'));
      } catch (err) {
        if (!(err instanceof SyntaxError) || attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  test('sign in and share the sshd', () => withLogs(async () => {
    await vscode.signInAndShare({ relayUrl: relay.url, token, tunnel: TUNNEL, sshPort: sshd.port });
    await vscode.clearToasts();
  }));

  test('forwarding on: the login goes through the agent, and ssh-add -l on the far side lists its key', () => withLogs(async () => {
    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    await vscode.waitForDialog(/authenticity of host/);
    await vscode.answerDialog('Accept and Save');
    await vscode.page.locator('.terminal-wrapper.active .xterm').waitFor();
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('ssh-add -l; echo agent-done');
    const text = await vscode.waitForTerminalText(/^agent-done$/m);
    await vscode.screenshot('agent-forwarded');
    const listedAt = text.indexOf(fingerprint);
    assert.ok(listedAt >= 0, `the far side's ssh-add -l lists ${fingerprint}; the terminal shows:\n${text}`);
    assert.ok(listedAt < text.search(/^agent-done$/m), `the fingerprint shows before agent-done:\n${text}`);
    assert.ok(!text.includes(NO_AGENT), `the far side has an agent:\n${text}`);
    assert.deepEqual((await vscode.toastTexts()).filter((t) => /agent|SSH/i.test(t)), [], 'no warning about the agent');
  }));

  test('forwarding off: the login still goes through the agent, and the far side has no agent', () => withLogs(async () => {
    // Turned off in the Settings editor, as a person would: VS Code writes the user setting.
    await vscode.runCommand('Preferences: Open User Settings');
    await vscode.page.locator('.settings-editor').waitFor();
    await vscode.page.keyboard.type('tether.agent.forward');
    const checkbox = vscode.page.locator('.settings-editor .setting-item-bool', { hasText: /Agent: Forward/ }).locator('.setting-value-checkbox').first();
    await checkbox.and(vscode.page.locator('[aria-checked="true"]')).waitFor();
    await checkbox.click();
    await checkbox.and(vscode.page.locator('[aria-checked="false"]')).waitFor();
    await vscode.screenshot('agent-forward-off-setting');
    const deadline = Date.now() + UI_TIMEOUT_MS;
    // Off is the default, so VS Code drops the key rather than writing false.
    while (((await userSettings())['tether.agent.forward'] ?? false) !== false) {
      assert.ok(Date.now() < deadline, `settings.json kept tether.agent.forward on: ${JSON.stringify(await userSettings())}`);
      await vscode.page.waitForTimeout(100);
    }
    assert.equal((await userSettings())['tether.agent.socketPath'], agentSocket);
    assert.equal((await userSettings())['tether.ssh.identityFile'], undefined);
    await vscode.runCommand('View: Close All Editors');

    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    // The new terminal (not the first one, which shows agent-done) reaches its prompt; the host key is known now.
    await vscode.waitForTerminalText(/^(?![\s\S]*agent-done)[\s\S]*[#$] ?$/);
    await vscode.typeInTerminal('ssh-add -l; echo rc=$?');
    const text = await vscode.waitForTerminalText(/^rc=\d+$/m);
    await vscode.screenshot('agent-not-forwarded');
    assert.match(text, /^rc=2$/m, `ssh-add -l finds no agent (exit code 2):\n${text}`);
    assert.ok(text.includes(NO_AGENT), `ssh-add says there is no agent:\n${text}`);
    assert.ok(!text.includes(fingerprint), `the key is not listed:\n${text}`);
  }));
});
