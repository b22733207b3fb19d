import * as vscode from 'vscode';
import type { Auth, Credentials } from './auth.js';
import { accountLabel } from '../core/index.js';
import { guarded, type Notifier } from './notify.js';
import { tokenExport } from './ssh-command.js';

/**
 * Asks (modal) before the token leaves secret storage; true when the user picks Copy.
 * `what` names what is copied ("the token", "the TETHER_TOKEN export line").
 */
export async function confirmTokenCopy(credentials: Credentials, what: string): Promise<boolean> {
  const host = credentials.relay.replace(/^[a-z]+:\/\//, '');
  const who = credentials.user || 'you';
  const choice = await vscode.window.showWarningMessage(
    `Copy ${what} for ${accountLabel(credentials.relay, credentials.user)}?`,
    {
      modal: true,
      detail: `Anyone holding it can act as ${who} on ${host}. Paste it only where you would type a password.${credentials.user ? ` A relay admin can replace it with "tether user token ${credentials.user}".` : ''}`,
    },
    'Copy',
  );
  return choice === 'Copy';
}

/** Copies `export TETHER_TOKEN=…` after the warning; for the ProxyCommand form of Copy SSH Command. */
export async function copyTokenExport(credentials: Credentials, notifier: Notifier): Promise<void> {
  if (!(await confirmTokenCopy(credentials, 'the TETHER_TOKEN export line'))) return;
  await vscode.env.clipboard.writeText(tokenExport(credentials.token));
  notifier.info('Tether: the TETHER_TOKEN export line is on the clipboard. Run it in the shell where you paste the ssh command.');
}

/** Tether: Copy Token. */
export function registerTokenCommands(auth: Auth, notifier: Notifier): vscode.Disposable[] {
  const copyToken = guarded(notifier, 'Copying the token', async () => {
    const credentials = await auth.require();
    if (!(await confirmTokenCopy(credentials, 'the token'))) return;
    await vscode.env.clipboard.writeText(credentials.token);
    notifier.info(`Tether: the token for ${accountLabel(credentials.relay, credentials.user)} is on the clipboard.`);
  });
  return [vscode.commands.registerCommand('tether.copyToken', copyToken)];
}
