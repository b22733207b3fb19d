import os from 'node:os';
import * as vscode from 'vscode';
import { writeManagedHost } from '../core/index.js';
import type { Auth } from './auth.js';
import type { Config } from './config.js';
import type { Connections } from './connections.js';
import { guarded, type Notifier } from './notify.js';
import { pickTunnel } from './pick-tunnel.js';
import { hostAlias } from './ssh-command.js';
import type { SshUsers } from './ssh-users.js';

const REMOTE_SSH = 'ms-vscode-remote.remote-ssh';

/**
 * Tether: Open in Remote-SSH Window. The managed Host entry points at this window's loopback
 * listener (no token on disk), so the new window works while this one keeps the tunnel open.
 */
export function registerRemoteCommand(auth: Auth, config: Config, connections: Connections, users: SshUsers, notifier: Notifier): vscode.Disposable[] {
  const command = guarded(notifier, 'Opening in Remote-SSH', async (arg?: unknown) => {
    const credentials = await auth.require();
    const tunnel = await pickTunnel(credentials, 'Tether: Open in Remote-SSH Window', arg);
    const { user } = await users.forTunnel(credentials, tunnel);
    const { port } = await connections.connect(credentials, tunnel);
    const alias = hostAlias(tunnel);
    const { identityFile } = config.settings;
    const written = await writeManagedHost({ alias, hostName: '127.0.0.1', port, user, identityFile, hostKeyAlias: alias }, os.homedir());
    const where = `Host ${alias} is in ${written.managedFile}${written.includeAdded ? ` (and ${written.userConfig} now includes it)` : ''}.`;
    if (vscode.extensions.getExtension(REMOTE_SSH)) {
      notifier.info(`Tether: ${where}`);
      await vscode.commands.executeCommand('vscode.newWindow', { remoteAuthority: `ssh-remote+${alias}`, reuseWindow: false });
      return;
    }
    // One notification: where the entry is, and what to do without Remote-SSH.
    notifier.info(
      `Tether: ${where} Remote-SSH is not installed: install it to open ${alias} in a window, or run "ssh ${alias}" in a terminal.`,
      { title: 'Install Remote-SSH', run: () => vscode.commands.executeCommand('workbench.extensions.search', `@id:${REMOTE_SSH}`) },
    );
  });
  return [vscode.commands.registerCommand('tether.openRemoteSsh', command)];
}
