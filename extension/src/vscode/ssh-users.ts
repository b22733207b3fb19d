import os from 'node:os';
import * as vscode from 'vscode';
import { chooseSshUser, readSshUserMemory, rememberSshUser, setManagedHostUser, sshUserProblem, sshUserWarning } from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import type { Config } from './config.js';
import { Cancelled, guarded, type Notifier } from './notify.js';
import { pickTunnel } from './pick-tunnel.js';
import { hostAlias } from './ssh-command.js';

/** globalState key of the per-tunnel SSH users (SshUserMemory): per machine, across workspaces. */
const MEMORY_KEY = 'tether.sshUsers';

/** The user one SSH use of a tunnel logs in as, and where it came from. */
export interface TunnelSshUser {
  user: string;
  /** `setting`: tether.ssh.user; `tunnel`: remembered for the tunnel, or typed just now. */
  source: 'setting' | 'tunnel';
}

/**
 * The SSH user of each tunnel: tether.ssh.user when it is set; else asked the first time a
 * tunnel is used for SSH and remembered for it (by relay and tunnel) in globalState.
 */
export class SshUsers {
  constructor(
    private readonly globalState: vscode.Memento,
    private readonly config: Config,
  ) {}

  /**
   * The user for `tunnel`, asking when none is known (or when `reask`). Rejects with Cancelled
   * when the box is dismissed, so the command that needed it stops quietly.
   */
  async forTunnel(credentials: Credentials, tunnel: string, { reask = false } = {}): Promise<TunnelSshUser> {
    const { sshUser, sshUserSet } = this.config.settings;
    const memory = readSshUserMemory(this.globalState.get(MEMORY_KEY));
    const choice = chooseSshUser({
      setting: sshUserSet ? sshUser : undefined,
      memory,
      relay: credentials.relay,
      tunnel,
      // Without the setting, settings.sshUser is the local login name.
      localUser: sshUser,
      reask,
    });
    if (choice.source === 'setting') return { user: choice.user, source: 'setting' };
    if (choice.source === 'remembered') return { user: choice.user, source: 'tunnel' };
    const typed = await vscode.window.showInputBox({
      title: `Tether: SSH user for ${tunnel}`,
      prompt: `SSH user for ${tunnel}: remembered for this tunnel (Tether: Change SSH User… asks again; the tether.ssh.user setting, when set, is used for every tunnel)`,
      value: choice.suggested,
      ignoreFocusOut: true,
      validateInput: (value) => {
        const problem = sshUserProblem(value.trim());
        if (problem) return problem;
        const warning = sshUserWarning(value.trim());
        return warning ? { message: warning, severity: vscode.InputBoxValidationSeverity.Warning } : undefined;
      },
    });
    const user = typed?.trim();
    if (!user) throw new Cancelled();
    await this.globalState.update(MEMORY_KEY, rememberSshUser(readSshUserMemory(this.globalState.get(MEMORY_KEY)), credentials.relay, tunnel, user));
    return { user, source: 'tunnel' };
  }
}

/** Tether: Change SSH User… — asks again for a tunnel's user (unless the setting decides it). */
export function registerSshUserCommand(auth: Auth, config: Config, users: SshUsers, notifier: Notifier): vscode.Disposable[] {
  const command = guarded(notifier, 'Changing the SSH user', async (arg?: unknown) => {
    const credentials = await auth.require();
    const tunnel = await pickTunnel(credentials, 'Tether: Change SSH User…', arg);
    const { sshUser, sshUserSet } = config.settings;
    if (sshUserSet) {
      notifier.info(
        `Tether: the tether.ssh.user setting says "${sshUser}", and it is used for every tunnel. Clear it to choose a user per tunnel.`,
        { title: 'Open Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'tether.ssh.user') },
      );
      return;
    }
    const { user } = await users.forTunnel(credentials, tunnel, { reask: true });
    // A Host entry Open in Remote-SSH wrote earlier follows, so `ssh tether-NAME` agrees.
    const alias = hostAlias(tunnel);
    const rewritten = await setManagedHostUser(alias, user, os.homedir());
    notifier.info(
      `Tether: SSH to ${tunnel} logs in as "${user}" from now on (new terminals, copied commands, Remote-SSH)` +
        (rewritten ? `; Host ${alias} in ~/.ssh/tether/config says so too.` : '.'),
    );
  });
  return [vscode.commands.registerCommand('tether.changeSshUser', command)];
}
