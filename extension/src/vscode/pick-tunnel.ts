import * as vscode from 'vscode';
import { RelayApi, type TunnelNode } from '../core/index.js';
import type { Credentials } from './auth.js';
import { Cancelled } from './notify.js';

/** The tunnel a command was invoked on: a view item, a name, or nothing (then ask). */
export function tunnelArgument(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && typeof (arg as TunnelNode).tunnel === 'string') return (arg as TunnelNode).tunnel;
  return undefined;
}

/** A quick pick of the tunnels this identity may use, fresh from the relay; online ones first. */
export async function pickTunnel(credentials: Credentials, title: string, arg?: unknown): Promise<string> {
  const given = tunnelArgument(arg);
  if (given) return given;
  const tunnels = new RelayApi(credentials.relay, credentials.token).tunnels();
  const items = tunnels.then((list) =>
    [...list]
      .sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name))
      .map((t) => ({ label: t.name, description: `${t.online ? 'online' : 'offline'} · ${t.owner === credentials.user ? 'yours' : t.owner}` })),
  );
  // The pick shows at once (busy) while the relay answers; a failed request rejects below.
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Tunnel', matchOnDescription: true });
  await tunnels;
  if (!picked) throw new Cancelled();
  return picked.label;
}
