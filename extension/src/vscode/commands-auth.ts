import * as vscode from 'vscode';
import type { Auth } from './auth.js';
import type { Connections } from './connections.js';
import type { Notifier } from './notify.js';
import type { SavedSessions } from './saved-sessions.js';
import type { Sharing } from './sharing.js';

/** Tether: Sign In to Relay / Sign Out. */
export function registerAuthCommands(auth: Auth, sharing: Sharing, connections: Connections, notifier: Notifier, saved: SavedSessions): vscode.Disposable[] {
  /** What signing out (or in as someone else) would stop, in words; undefined when nothing. */
  const inUse = (): string | undefined => {
    const shares = sharing.names();
    const open = connections.list().length;
    const parts = [
      shares.length ? `stops sharing ${shares.join(', ')}` : undefined,
      open ? `closes ${open === 1 ? 'a connection' : `${open} connections`}` : undefined,
    ].filter(Boolean);
    return parts.length ? parts.join(' and ') : undefined;
  };
  /** Asks before `action` stops what is in use; false when the user declines. */
  const confirmStop = async (action: string, button: string): Promise<boolean> => {
    const stops = inUse();
    if (!stops) return true;
    const choice = await vscode.window.showWarningMessage(`${action} ${stops}. Continue?`, { modal: true }, button);
    return choice === button;
  };

  const signIn = async (given?: { relay?: string; token?: string }): Promise<void> => {
    let answer: { relay: string; token: string } | undefined;
    try {
      answer = await auth.prompt(given);
      if (!answer) return;
      if (auth.credentials && !(await confirmStop(`Signing in to ${answer.relay}`, 'Sign In'))) return;
      if (auth.credentials) {
        // A new identity: what the old one shares or reaches stops with it, and is not restored.
        saved.forget(auth.credentials.relay);
        await sharing.stopAll();
        connections.closeAll();
      }
      await auth.verify(answer.relay, answer.token);
      notifier.info(`Tether: signed in to ${answer.relay} as ${auth.credentials?.user ?? '?'}.`);
    } catch (err) {
      // Retry uses what was typed; Sign In (for a refused token) asks again.
      const typed = answer;
      notifier.failure(err, 'Sign-in', typed ? () => signIn(typed) : undefined);
    }
  };
  const signOut = async (): Promise<void> => {
    if (!(await confirmStop('Signing out', 'Sign Out'))) return;
    try {
      if (auth.credentials) saved.forget(auth.credentials.relay);
      await sharing.stopAll();
      connections.closeAll();
      await auth.signOut();
    } catch (err) {
      notifier.failure(err, 'Sign-out', signOut);
    }
  };
  return [vscode.commands.registerCommand('tether.signIn', signIn), vscode.commands.registerCommand('tether.signOut', signOut)];
}
