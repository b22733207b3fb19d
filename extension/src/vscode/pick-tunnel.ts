import * as vscode from 'vscode';
import { RelayApi, type TunnelNode } from '../core/index.js';
import type { Credentials } from './auth.js';
import { Cancelled } from './notify.js';
import { tunnelPickItems, type ListedTunnel } from './tunnel-pick-items.js';

/** The tunnel a command was invoked on: a view item, a name, or nothing (then ask). */
export function tunnelArgument(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && typeof (arg as TunnelNode).tunnel === 'string') return (arg as TunnelNode).tunnel;
  return undefined;
}

/**
 * A quick pick of the tunnels this identity may use, fresh from the relay, online ones first;
 * a tunnel name typed into it can be picked too. Rejects with the relay's error when the list
 * cannot be fetched, and with Cancelled when the user dismisses it.
 */
export async function pickTunnel(credentials: Credentials, title: string, arg?: unknown): Promise<string> {
  const given = tunnelArgument(arg);
  if (given) return given;
  const pick = vscode.window.createQuickPick();
  pick.title = title;
  pick.placeholder = 'Tunnel (or type a tunnel name)';
  pick.matchOnDescription = true;
  // The pick shows at once (busy) while the relay answers.
  pick.busy = true;
  let listed: ListedTunnel[] = [];
  const render = (): void => {
    pick.items = tunnelPickItems(listed, credentials.user, pick.value);
  };
  try {
    return await new Promise<string>((resolve, reject) => {
      pick.onDidChangeValue(render);
      pick.onDidAccept(() => {
        const item = pick.selectedItems[0] ?? pick.activeItems[0];
        if (item) resolve(item.label);
      });
      pick.onDidHide(() => reject(new Cancelled()));
      new RelayApi(credentials.relay, credentials.token).tunnels().then(
        (list) => {
          listed = list;
          pick.busy = false;
          render();
        },
        (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
      );
      pick.show();
    });
  } finally {
    pick.dispose();
  }
}
