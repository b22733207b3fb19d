/** The rows of the tunnel quick pick (no 'vscode' here: unit-tested). */
import { checkTunnelName } from '@tether/shared';

export interface ListedTunnel {
  name: string;
  owner: string;
  online: boolean;
}

export interface TunnelPickItem {
  label: string;
  description: string;
  /** Shown whatever the filter (the typed name's own row). */
  alwaysShow?: boolean;
}

/**
 * The tunnels the relay lists for this identity, online first, then by name; plus, when the
 * user has typed a valid tunnel name the list does not hold, a row to use that name anyway
 * (a tunnel someone named in a message: the relay decides whether this identity may use it).
 */
export function tunnelPickItems(listed: readonly ListedTunnel[], user: string | undefined, typed: string): TunnelPickItem[] {
  const items: TunnelPickItem[] = [...listed]
    .sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name))
    .map((t) => ({ label: t.name, description: `${t.online ? 'online' : 'offline'} · ${t.owner === user ? 'yours' : t.owner}` }));
  const name = typed.trim();
  if (name && !checkTunnelName(name) && !listed.some((t) => t.name === name)) {
    items.unshift({ label: name, description: 'not in your list · use this name', alwaysShow: true });
  }
  return items;
}
