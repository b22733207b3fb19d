import * as vscode from 'vscode';
import { ErrorCode, isTetherError } from '@tether/shared';
import { RelayApi } from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import { Cancelled, guarded, type Notifier } from './notify.js';
import { tunnelArgument } from './pick-tunnel.js';
import type { Sharing } from './sharing.js';
import type { StateModel } from './state.js';

const hostOf = (relay: string): string => relay.replace(/^[a-z]+:\/\//, '');

/** A quick pick of the tunnels the signed-in user owns; Cancelled when dismissed or there are none. */
async function pickOwnTunnel(api: RelayApi, credentials: Credentials, notifier: Notifier): Promise<string> {
  const mine = (await api.tunnels()).filter((t) => t.owner === credentials.user).sort((a, b) => a.name.localeCompare(b.name));
  if (mine.length === 0) {
    notifier.info(`Tether: you own no tunnels on ${hostOf(credentials.relay)}.`);
    throw new Cancelled();
  }
  const pick = await vscode.window.showQuickPick(
    mine.map((t) => ({ label: t.name, description: t.online ? 'online' : 'offline' })),
    { title: 'Tether: Delete Tunnel…', placeHolder: 'Tunnel you own' },
  );
  if (!pick) throw new Cancelled();
  return pick.label;
}

/** "tunnel web is being shared right now: stop sharing it first" → "Tunnel web … first." */
const sentence = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1).replace(/\.?$/, '.')}`;

/** Tether: Delete Tunnel… (the CLI's `tether tunnel delete NAME`): from the view on an offline tunnel I own, or from the palette on any I own. */
export function registerTunnelCommands(auth: Auth, sharing: Sharing, model: StateModel, notifier: Notifier): vscode.Disposable[] {
  const deleteTunnel = guarded(notifier, 'Deleting the tunnel', async (arg?: unknown) => {
    const credentials = await auth.require();
    const api = new RelayApi(credentials.relay, credentials.token);
    const tunnel = tunnelArgument(arg) ?? (await pickOwnTunnel(api, credentials, notifier));
    if (sharing.names().includes(tunnel)) {
      notifier.warn(`Tether: this window shares ${tunnel}. Stop sharing it first, then delete it.`, {
        title: 'Stop Sharing',
        run: () => vscode.commands.executeCommand('tether.stopSharing', tunnel),
      });
      return;
    }
    const choice = await vscode.window.showWarningMessage(
      `Delete tunnel ${tunnel} on ${hostOf(credentials.relay)}?`,
      { modal: true, detail: 'The relay releases the name: anyone may claim it afterwards. Sharing it again creates it anew.' },
      'Delete',
    );
    if (choice !== 'Delete') return;
    try {
      await api.deleteTunnel(tunnel);
    } catch (err) {
      // Shared from somewhere else right now: the relay's own sentence says what to do.
      if (isTetherError(err) && err.code === ErrorCode.TUNNEL_IN_USE) {
        notifier.warn(`Tether: ${sentence(err.message)}`);
        return;
      }
      throw err;
    }
    notifier.info(`Tether: deleted ${tunnel}; the name is free again.`);
    await model.refreshReachable();
  });
  return [vscode.commands.registerCommand('tether.deleteTunnel', deleteTunnel)];
}
