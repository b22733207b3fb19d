import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RelayApi, writeCliShim, type TunnelNode } from '../core/index.js';
import type { Auth } from './auth.js';
import type { Config } from './config.js';
import type { Connections } from './connections.js';
import { guarded, type Notifier } from './notify.js';
import { pickTunnel } from './pick-tunnel.js';
import type { SavedSessions } from './saved-sessions.js';
import { localPortCommand, proxyCommand } from './ssh-command.js';
import type { SshUsers } from './ssh-users.js';
import { copyTokenExport } from './token-copy.js';

/**
 * How to run the tether CLI in a ProxyCommand: through the shim at ~/.ssh/tether/bin/tether,
 * which runs the copy bundled in this extension and is rewritten when the extension updates, so
 * the copied line never names a versioned extension folder; `npx tether` in a checkout (no bundle).
 */
function cliCommand(extensionPath: string): string[] {
  const bundled = join(extensionPath, 'cli.js');
  if (!existsSync(bundled)) return ['npx', 'tether'];
  if (process.platform === 'win32') return ['node', bundled];
  return [writeCliShim(os.homedir(), bundled)];
}

/** Tether: Connect to Tunnel… / Disconnect / Copy SSH Command. */
export function registerConnectCommands(
  context: vscode.ExtensionContext,
  auth: Auth,
  config: Config,
  connections: Connections,
  users: SshUsers,
  notifier: Notifier,
  saved: SavedSessions,
): vscode.Disposable[] {
  const connect = guarded(notifier, 'Connecting', async (arg?: unknown) => {
    const credentials = await auth.require();
    const tunnel = await pickTunnel(credentials, 'Tether: Connect to Tunnel…', arg);
    const { port, online } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tether: connecting to ${tunnel}…` },
      async () => {
        // The relay's word on the tunnel first: an unknown or forbidden one fails here, with its
        // code; an offline one gets a listener all the same, and a warning instead of "connected".
        const status = await new RelayApi(credentials.relay, credentials.token).tunnel(tunnel);
        return { ...(await connections.connect(credentials, tunnel)), online: status.online };
      },
    );
    saved.snapshot();
    // The user is asked (when it is not known yet) only if the command is copied.
    const copy = {
      title: 'Copy SSH Command',
      run: async () => {
        const { user } = await users.forTunnel(credentials, tunnel);
        await vscode.env.clipboard.writeText(localPortCommand({ tunnel, user, port, identityFile: config.settings.identityFile }));
      },
    };
    if (!online) {
      notifier.warn(`Tether: ${tunnel} is offline (no host is sharing it now). 127.0.0.1:${port} is ready for it, but connections fail until it is shared again.`, copy);
      return;
    }
    notifier.info(
      `Tether: ${tunnel} is on 127.0.0.1:${port}.`,
      copy,
      { title: 'Open SSH Terminal', run: () => vscode.commands.executeCommand('tether.openSshTerminal', tunnel) },
    );
  });

  const disconnect = guarded(notifier, 'Disconnecting', async (arg?: unknown) => {
    const id = arg && typeof arg === 'object' ? (arg as TunnelNode).connectionId : undefined;
    if (id) {
      connections.disconnect(id);
      saved.snapshot();
      return;
    }
    const listeners = connections.list().filter((c) => c.kind === 'listener');
    const pick = await vscode.window.showQuickPick(
      listeners.map((c) => ({ label: c.tunnel, description: `127.0.0.1:${c.localPort}`, id: c.id })),
      { title: 'Tether: Disconnect', placeHolder: listeners.length ? 'Connection' : 'No active connections' },
    );
    if (pick) {
      connections.disconnect(pick.id);
      saved.snapshot();
    }
  });

  const copy = guarded(notifier, 'Copying the SSH command', async (arg?: unknown) => {
    const credentials = await auth.require();
    const tunnel = await pickTunnel(credentials, 'Tether: Copy SSH Command', arg);
    const { identityFile } = config.settings;
    const form = await vscode.window.showQuickPick(
      [
        { label: 'Local port', detail: 'ssh -p PORT … @127.0.0.1 — works while this window keeps the tunnel connected', id: 'local' as const },
        { label: 'ProxyCommand', detail: 'ssh -o ProxyCommand="tether proxy …" — works anywhere the tether CLI runs; set TETHER_TOKEN first', id: 'proxy' as const },
      ],
      { title: `Tether: Copy SSH Command for ${tunnel}` },
    );
    if (!form) return;
    const { user } = await users.forTunnel(credentials, tunnel);
    let line: string;
    if (form.id === 'local') {
      const { port } = await connections.connect(credentials, tunnel);
      saved.snapshot();
      line = localPortCommand({ tunnel, user, port, identityFile });
    } else {
      line = proxyCommand({ tunnel, user, identityFile, relay: credentials.relay, cli: cliCommand(context.extensionPath) });
    }
    await vscode.env.clipboard.writeText(line);
    if (form.id === 'proxy') {
      notifier.info(`Copied: ${line} (the tether CLI reads the token from TETHER_TOKEN)`, {
        title: 'Copy TETHER_TOKEN Export',
        run: () => copyTokenExport(credentials, notifier),
      });
    } else {
      notifier.info(`Copied: ${line}`);
    }
  });

  return [
    vscode.commands.registerCommand('tether.connect', connect),
    vscode.commands.registerCommand('tether.disconnect', disconnect),
    vscode.commands.registerCommand('tether.copySshCommand', copy),
  ];
}
