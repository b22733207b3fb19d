import * as vscode from 'vscode';
import type { Auth } from './auth.js';
import type { Connections } from './connections.js';
import type { Notifier } from './notify.js';
import type { Sharing } from './sharing.js';

/** Tether: Sign In to Relay / Sign Out. */
export function registerAuthCommands(auth: Auth, sharing: Sharing, connections: Connections, notifier: Notifier): vscode.Disposable[] {
  const signIn = async (given?: { relay?: string; token?: string }): Promise<void> => {
    let answer: { relay: string; token: string } | undefined;
    try {
      answer = await auth.prompt(given);
      if (!answer) return;
      if (auth.credentials) {
        // A new identity: what the old one shares or reaches stops with it.
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
    try {
      await sharing.stopAll();
      connections.closeAll();
      await auth.signOut();
    } catch (err) {
      notifier.failure(err, 'Sign-out', signOut);
    }
  };
  return [vscode.commands.registerCommand('tether.signIn', signIn), vscode.commands.registerCommand('tether.signOut', signOut)];
}
