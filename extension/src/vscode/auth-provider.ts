import * as vscode from 'vscode';
import type { Auth, Credentials } from './auth.js';
import type { Logger } from './logger.js';

export const PROVIDER_ID = 'tether';

/** "alice @ relay.example.com:8080": who is signed in where, as the Accounts menu shows it. */
export function accountLabel(credentials: Credentials): string {
  const host = credentials.relay.replace(/^[a-z]+:\/\//, '');
  return credentials.user ? `${credentials.user} @ ${host}` : host;
}

function toSession(credentials: Credentials): vscode.AuthenticationSession {
  const label = accountLabel(credentials);
  return { id: `${credentials.relay}#${credentials.user}`, accessToken: credentials.token, account: { id: label, label }, scopes: [] };
}

/**
 * The Tether identity in VS Code's Accounts menu. A thin adapter: Auth (SecretStorage) stays the
 * source of truth, and signing in or out here runs the Tether: Sign In / Sign Out commands, with
 * their prompts and their confirmation when shares or connections would stop.
 */
export class TetherAuthProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changed.event;
  private session: vscode.AuthenticationSession | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(auth: Auth, private readonly logger: Logger) {
    this.session = auth.credentials && toSession(auth.credentials);
    this.subscriptions = [
      auth.onDidChange((credentials) => this.update(credentials)),
      vscode.authentication.registerAuthenticationProvider(PROVIDER_ID, 'Tether', this, { supportsMultipleAccounts: false }),
    ];
  }

  getSessions(): Promise<vscode.AuthenticationSession[]> {
    return Promise.resolve(this.session ? [this.session] : []);
  }

  /** "Sign in with Tether" in the Accounts menu: the same flow as Tether: Sign In to Relay. */
  async createSession(): Promise<vscode.AuthenticationSession> {
    await vscode.commands.executeCommand('tether.signIn');
    if (!this.session) throw new Error('Not signed in to Tether: the sign-in was cancelled or failed.');
    return this.session;
  }

  /** Sign Out in the Accounts menu; declining Tether's own confirmation keeps the session. */
  async removeSession(sessionId: string): Promise<void> {
    if (this.session?.id !== sessionId) return;
    await vscode.commands.executeCommand('tether.signOut');
  }

  /**
   * While signed out, asks VS Code to offer "Sign in with Tether" in the Accounts menu (a sign-in
   * request; VS Code drops it once a session exists).
   */
  async offerSignIn(): Promise<void> {
    if (this.session) return;
    try {
      await vscode.authentication.getSession(PROVIDER_ID, [], { createIfNone: false });
    } catch (err) {
      this.logger.warn(`cannot offer "Sign in with Tether" in the Accounts menu: ${String(err)}`);
    }
  }

  private update(credentials: Credentials | undefined): void {
    const next = credentials && toSession(credentials);
    const previous = this.session;
    if (previous?.id === next?.id && previous?.accessToken === next?.accessToken) return;
    this.session = next;
    const event: vscode.AuthenticationProviderAuthenticationSessionsChangeEvent =
      previous && next && previous.id === next.id
        ? { added: [], removed: [], changed: [next] }
        : { added: next ? [next] : [], removed: previous ? [previous] : [], changed: [] };
    this.changed.fire(event);
    if (!next) void this.offerSignIn();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
