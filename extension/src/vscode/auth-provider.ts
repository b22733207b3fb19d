import * as vscode from 'vscode';
import { accountSession, sessionChange } from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import type { Logger } from './logger.js';

export const PROVIDER_ID = 'tether';

/**
 * The Tether identity in VS Code's Accounts menu. A thin adapter: Auth (SecretStorage) stays the
 * source of truth, and signing in or out here runs the Tether: Sign In / Sign Out commands, with
 * their prompts and their confirmation when shares or connections would stop. VS Code offers no
 * way to add items (such as "Change Relay") to an account there: Sign In to Relay does that.
 */
export class TetherAuthProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changed.event;
  private session: vscode.AuthenticationSession | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(auth: Auth, private readonly logger: Logger) {
    this.session = auth.credentials && accountSession(auth.credentials);
    this.subscriptions = [
      auth.onDidChange((credentials) => this.update(credentials)),
      vscode.authentication.registerAuthenticationProvider(PROVIDER_ID, 'Tether', this, { supportsMultipleAccounts: false }),
    ];
  }

  getSessions(): Promise<vscode.AuthenticationSession[]> {
    return Promise.resolve(this.session ? [this.session] : []);
  }

  /**
   * "Sign in with Tether" in the Accounts menu: the same flow as Tether: Sign In to Relay. Cancelled
   * or failed (the flow has said why), it rejects with a CancellationError: the user's choice or a
   * failure already shown, not a new one.
   */
  async createSession(): Promise<vscode.AuthenticationSession> {
    await vscode.commands.executeCommand('tether.signIn');
    if (!this.session) throw new vscode.CancellationError();
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
    const next = credentials && accountSession(credentials);
    const change = sessionChange(this.session, next);
    if (!change) return;
    this.session = next;
    this.changed.fire(change);
    if (!next) void this.offerSignIn();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
