import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { createError, ErrorCode, isTetherError, type TetherError } from '@tether/shared';
import { discoverAgent, type DiagnosticsModel, type FoundAgent, type SshShell } from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import type { Config } from './config.js';
import type { Connections } from './connections.js';
import type { Logger } from './logger.js';
import { confirmNewHostKey } from './host-key-prompt.js';
import { guarded, type Notifier } from './notify.js';
import { pickTunnel } from './pick-tunnel.js';
import { hostAlias } from './ssh-command.js';
import { SshPty } from './ssh-pty.js';
import type { SshUsers, TunnelSshUser } from './ssh-users.js';

/** The key to offer: the setting, else the first of OpenSSH's default key files that exists. */
function identityFile(configured: string | undefined): string | undefined {
  if (configured) return configured;
  const ssh = join(os.homedir(), '.ssh');
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(ssh, f)).find((f) => existsSync(f));
}

/**
 * A refused login, with the settings that decide it: the user name and the key are VS Code
 * settings here, not ssh options.
 */
function withSettingHint(err: unknown, tunnel: string, user: TunnelSshUser, identity: string | undefined): unknown {
  if (!isTetherError(err, ErrorCode.SSH_AUTH_FAILED)) return err;
  const key = identity ? `the key ${identity} (tether.ssh.identityFile)` : 'the agent and ~/.ssh/id_* keys (set one with tether.ssh.identityFile)';
  const where = user.source === 'setting'
    ? 'tether.ssh.user'
    : `the user chosen for ${tunnel}: "Tether: Change SSH User…" picks another, or set tether.ssh.user for every tunnel`;
  return createError(err.code, `${err.message.replace(/\.$/, '')}; the SSH user is "${user.user}" (${where}) and the login uses ${key}`);
}

/** How a user of VS Code picks the agent, for the advice when none is found. */
const AGENT_SETTINGS = { agent: 'the tether.agent.type setting', socket: 'the tether.agent.socketPath setting' };


/** Tether: Open SSH Terminal. */
export function registerTerminalCommand(
  auth: Auth, config: Config, connections: Connections, users: SshUsers, notifier: Notifier, logger: Logger, diagnostics: DiagnosticsModel,
): vscode.Disposable[] {
  let terminals = 0;
  /** The agent the settings ask for; a missing one is a warning only when it was asked for. */
  const findAgent = async (): Promise<FoundAgent | undefined> => {
    const { agent } = config.settings;
    try {
      return await discoverAgent({ agent: agent.type, socketPath: agent.socketPath, optionNames: AGENT_SETTINGS });
    } catch (err) {
      if (agent.forward || agent.socketPath || agent.type !== 'auto') {
        notifier.failure(err, 'Finding the SSH agent (the terminal opens without it)', undefined, 'warning');
      }
      return undefined;
    }
  };

  const openTerminal = async (credentials: Credentials, tunnel: string, passphrase?: string): Promise<void> => {
    const { identityFile: configured, agent } = config.settings;
    const sshUser = await users.forTunnel(credentials, tunnel);
    const found = await findAgent();
    const id = `ssh-terminal-${++terminals}`;
    let warning: string | undefined;
    /** Agent forwarding as the diagnostics panel shows it: asked for, the agent found, and whether the session forwards it. */
    const agentState = (shell: SshShell | undefined): void => {
      const problem = !agent.forward ? undefined : !found ? 'no SSH agent found (tether.agent.type, tether.agent.socketPath)' : shell && !shell.agentForwarding ? (warning ?? 'the server refused it') : undefined;
      diagnostics.agent(id, { terminal: `SSH: ${tunnel}`, tunnel, requested: agent.forward, agent: found?.kind, live: shell?.agentForwarding ?? false, ...(problem ? { problem } : {}) });
    };
    const pty = new SshPty({
      tunnel,
      open: () => connections.openStream(credentials, tunnel),
      shell: {
        username: sshUser.user,
        hostLabel: hostAlias(tunnel),
        knownHostsFile: join(os.homedir(), '.ssh', 'known_hosts'),
        identityFile: identityFile(configured),
        passphrase,
        agentSocket: found?.path,
        agentName: found?.kind,
        // RFC 4254 agent forwarding only when the setting asks for it, and never otherwise.
        agentForward: agent.forward && found !== undefined,
        agentTimeoutMs: agent.timeoutMs,
        onWarning: (err: TetherError) => {
          warning = `${err.message} [${err.code}]`;
          diagnostics.failure(`agent forwarding to ${tunnel}`, err);
          notifier.failure(err, `Agent forwarding to ${tunnel}`, undefined, 'warning');
        },
        confirmNewHostKey,
      },
      askPassphrase: async () =>
        vscode.window.showInputBox({ title: `Passphrase for ${identityFile(configured) ?? 'the key'}`, prompt: `SSH to ${tunnel}`, password: true, ignoreFocusOut: true }),
      onFailure: (err) => {
        const explained = withSettingHint(err, tunnel, sshUser, configured);
        if (isTetherError(explained)) diagnostics.failure(`SSH to ${tunnel}`, explained);
        notifier.failure(explained, `SSH to ${tunnel}`, () => openTerminal(credentials, tunnel, passphrase));
      },
      onLost: (reason) => logger.warn(`SSH terminal to ${tunnel}: ${reason}`),
      onSession: agentState,
    });
    const terminal = vscode.window.createTerminal({ name: `SSH: ${tunnel}`, pty, iconPath: new vscode.ThemeIcon('remote') });
    agentState(undefined);
    const closed = vscode.window.onDidCloseTerminal((t) => {
      if (t !== terminal) return;
      closed.dispose();
      diagnostics.agent(id, undefined);
    });
    terminal.show();
  };

  const command = guarded(notifier, 'Opening the SSH terminal', async (arg?: unknown) => {
    const credentials = await auth.require();
    const tunnel = await pickTunnel(credentials, 'Tether: Open SSH Terminal', arg);
    await openTerminal(credentials, tunnel);
  });
  return [vscode.commands.registerCommand('tether.openSshTerminal', command)];
}
