import os from 'node:os';
import * as vscode from 'vscode';
import { checkTunnelName } from '@tether/shared';
import { parseHostPort, proposedName } from '../core/index.js';
import type { Auth } from './auth.js';
import type { Config } from './config.js';
import { Cancelled, guarded, type Notifier } from './notify.js';
import { tunnelArgument } from './pick-tunnel.js';
import type { SavedSessions } from './saved-sessions.js';
import type { Sharing } from './sharing.js';

async function askTunnelName(title: string, where: string, taken: Map<string, string>, port: number): Promise<string> {
  const name = await vscode.window.showInputBox({
    title,
    prompt: `Tunnel name for ${where} (others connect to it by this name)`,
    value: proposedName(os.hostname(), port, taken, where),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const problem = checkTunnelName(v.trim())?.message;
      if (problem) return problem;
      const other = taken.get(v.trim());
      if (other && other !== where) return { message: `${v.trim()} already shares ${other}: this would re-point it to ${where}`, severity: vscode.InputBoxValidationSeverity.Warning };
      return undefined;
    },
  });
  if (name === undefined) throw new Cancelled();
  const tunnel = name.trim();
  const other = taken.get(tunnel);
  if (other && other !== where) {
    const choice = await vscode.window.showWarningMessage(
      `${tunnel} already shares ${other}. Re-point it to ${where}? Connections to ${tunnel} would reach ${where} from now on.`,
      { modal: true },
      'Re-point',
    );
    if (choice !== 'Re-point') throw new Cancelled();
  }
  return tunnel;
}

/** Longest Stop Sharing waits for open connections to finish when asked to let them. */
const DRAIN_MINUTES = 30;

/** Tether: Share Local SSH Server / Share Local Port… / Stop Sharing. */
export function registerShareCommands(auth: Auth, config: Config, sharing: Sharing, notifier: Notifier, saved: SavedSessions): vscode.Disposable[] {
  const share = async (title: string, target: { host: string; port: number }, name?: string): Promise<void> => {
    const credentials = await auth.require();
    const where = `${target.host}:${target.port}`;
    const taken = new Map(sharing.list().map((t) => [t.name, `${t.target.host}:${t.target.port}`]));
    const tunnel = name ?? (await askTunnelName(title, where, taken, target.port));
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tether: sharing ${where} as ${tunnel}…` }, () =>
        sharing.start(credentials, tunnel, target),
      );
    } catch (err) {
      notifier.failure(err, `Sharing ${tunnel}`, () => share(title, target, tunnel));
      return;
    }
    saved.snapshot();
    notifier.info(`Tether: sharing ${where} as "${tunnel}" on ${credentials.relay}.`);
  };

  const shareSsh = guarded(notifier, 'Sharing', async (name?: unknown) => {
    const target = { host: '127.0.0.1', port: config.settings.sshTargetPort };
    await share('Tether: Share Local SSH Server', target, typeof name === 'string' ? name : undefined);
  });

  const sharePort = guarded(notifier, 'Sharing', async () => {
    const input = await vscode.window.showInputBox({
      title: 'Tether: Share Local Port…',
      prompt: 'Local service to share: PORT or HOST:PORT',
      placeHolder: '127.0.0.1:3000',
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          parseHostPort(v.trim());
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
    if (input === undefined) return;
    await share('Tether: Share Local Port…', parseHostPort(input.trim()));
  });

  const stopSharing = guarded(notifier, 'Stop sharing', async (arg?: unknown) => {
    let tunnel = tunnelArgument(arg);
    if (!tunnel) {
      const names = sharing.names();
      if (names.length === 0) {
        void vscode.window.showInformationMessage('Tether: nothing is being shared.');
        return;
      }
      tunnel = names.length === 1 ? names[0] : await vscode.window.showQuickPick(names, { title: 'Tether: Stop Sharing', placeHolder: 'Tunnel' });
      if (!tunnel) return;
    }
    const open = sharing.openStreams(tunnel);
    if (open === 0) {
      await sharing.stop(tunnel);
      saved.snapshot();
      notifier.info(`Tether: stopped sharing "${tunnel}".`);
      return;
    }
    const finish = 'Let Them Finish';
    const choice = await vscode.window.showWarningMessage(
      `${tunnel} has ${open === 1 ? 'an open connection' : `${open} open connections`}. Stop sharing it?`,
      { modal: true, detail: `${finish}: no new connections; sharing ends when the last one closes (at most ${DRAIN_MINUTES} minutes). Stop Now: they are cut.` },
      finish,
      'Stop Now',
    );
    if (choice === undefined) return;
    if (choice === 'Stop Now') {
      await sharing.stop(tunnel, 0);
      saved.snapshot();
      notifier.info(`Tether: stopped sharing "${tunnel}"; its open connections were closed.`);
      return;
    }
    notifier.info(`Tether: "${tunnel}" takes no new connections; it stops once its open ones close.`);
    const stopping = sharing.stop(tunnel, DRAIN_MINUTES * 60_000);
    saved.snapshot();
    await stopping;
    notifier.info(`Tether: stopped sharing "${tunnel}".`);
  });

  return [
    vscode.commands.registerCommand('tether.shareSsh', shareSsh),
    vscode.commands.registerCommand('tether.sharePort', sharePort),
    vscode.commands.registerCommand('tether.stopSharing', stopSharing),
  ];
}
