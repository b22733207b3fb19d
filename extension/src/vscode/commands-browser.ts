import * as vscode from 'vscode';
import type { TunnelNode } from '../core/index.js';
import type { Auth } from './auth.js';
import type { Connections } from './connections.js';
import { guarded, type Notifier } from './notify.js';
import { pickTunnel } from './pick-tunnel.js';
import type { SavedSessions } from './saved-sessions.js';

/**
 * Tether: Open in Browser / Copy Address, for a tunnel that fronts a web server (a teammate's
 * dev server shared with Share Local Port…). Whether it does is not known: the relay never reads
 * the bytes, and the remote target is not probed. The Ports view would be the natural home, but
 * its API (registerPortAttributesProvider, openTunnel) is proposed in VS Code 1.100 and a
 * published extension cannot use it.
 */
export function registerBrowserCommands(auth: Auth, connections: Connections, notifier: Notifier, saved: SavedSessions): vscode.Disposable[] {
  /**
   * The tunnel and local port a command acts on: a listener's own (its view item), else the
   * tunnel's listener, made now (through connections.connect, which reuses one that exists)
   * when there is none.
   */
  const listenerOf = async (arg: unknown, title: string): Promise<{ tunnel: string; port: number }> => {
    const id = arg && typeof arg === 'object' ? (arg as TunnelNode).connectionId : undefined;
    const known = id ? connections.list().find((c) => c.id === id && c.kind === 'listener') : undefined;
    if (known?.localPort) return { tunnel: known.tunnel, port: known.localPort };
    const credentials = await auth.require();
    const tunnel = await pickTunnel(credentials, title, arg);
    const existing = connections.listenerFor(tunnel);
    if (existing) return { tunnel, port: existing.port };
    const { port } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tether: connecting to ${tunnel}…` },
      () => connections.connect(credentials, tunnel),
    );
    saved.snapshot();
    return { tunnel, port };
  };

  const open = guarded(notifier, 'Opening in the browser', async (arg?: unknown) => {
    const { tunnel, port } = await listenerOf(arg, 'Tether: Open in Browser');
    // In code-server, Codespaces or a remote window the browser is elsewhere: asExternalUri
    // gives the address it can reach (a forwarded port or the server's proxy).
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(`http://127.0.0.1:${port}/`));
    if (!(await vscode.env.openExternal(external))) {
      notifier.warn(`Tether: the browser did not open. ${tunnel} answers on ${external.toString(true)}: paste it into a browser.`, {
        title: 'Copy Address',
        run: () => vscode.env.clipboard.writeText(external.toString(true)),
      });
    }
  });

  const copy = guarded(notifier, 'Copying the address', async (arg?: unknown) => {
    const { tunnel, port } = await listenerOf(arg, 'Tether: Copy Address');
    // host:port rather than a URL: it works in a browser's address bar and in any TCP client
    // (the tunnel may not be HTTP).
    const address = `127.0.0.1:${port}`;
    await vscode.env.clipboard.writeText(address);
    const elsewhere = vscode.env.remoteName !== undefined || vscode.env.uiKind === vscode.UIKind.Web;
    notifier.info(
      `Copied ${address}: ${tunnel} on ${elsewhere ? 'the machine this window runs on' : 'this machine'} (a browser opens it as http://${address}/).` +
        (elsewhere ? ' Your browser may be on another machine: Open in Browser gives it an address it can reach.' : ''),
    );
  });

  return [vscode.commands.registerCommand('tether.openInBrowser', open), vscode.commands.registerCommand('tether.copyAddress', copy)];
}
