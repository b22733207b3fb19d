import * as vscode from 'vscode';
import { parseRelayUrl, RelayApi } from '../core/index.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { Cancelled } from './notify.js';

/** Who we are on which relay. The token lives in SecretStorage and in memory, nowhere else. */
export interface Credentials {
  relay: string;
  token: string;
  user: string;
}

const RELAY_KEY = 'tether.relay';
/** The relay URL last typed into Sign In, kept through failures and Sign Out to offer it again. */
const TYPED_KEY = 'tether.relayTyped';
const USER_KEY = 'tether.user';
const secretKey = (relay: string): string => `tether.token/${relay}`;

/** Sign-in state: relay URL and user name in globalState, the token in SecretStorage. */
export class Auth implements vscode.Disposable {
  private current: Credentials | undefined;
  private readonly changed = new vscode.EventEmitter<Credentials | undefined>();
  readonly onDidChange = this.changed.event;
  /** True while a sign-in is being checked with the relay. */
  busy = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  get credentials(): Credentials | undefined {
    return this.current;
  }

  /** The credentials, or an offer to sign in first (Cancelled when the user declines). */
  async require(): Promise<Credentials> {
    if (this.current) return this.current;
    const choice = await vscode.window.showInformationMessage('Sign in to a Tether relay first.', 'Sign In');
    if (choice !== 'Sign In' || !(await this.signIn())) throw new Cancelled();
    if (!this.current) throw new Cancelled();
    return this.current;
  }

  /** Restores the last sign-in from storage without asking the relay (it may be offline). */
  async restore(): Promise<void> {
    const relay = this.context.globalState.get<string>(RELAY_KEY);
    if (!relay) return;
    const token = await this.context.secrets.get(secretKey(relay));
    if (!token) return;
    this.current = { relay, token, user: this.context.globalState.get<string>(USER_KEY) ?? '' };
    this.logger.info(`signed in to ${relay} as ${this.current.user || '(unknown user)'}`);
    this.changed.fire(this.current);
  }

  /** Asks for whatever of relay and token is not given; undefined when the user cancels. */
  async prompt(given?: { relay?: string; token?: string }): Promise<{ relay: string; token: string } | undefined> {
    const relayInput = given?.relay ?? (await this.askRelay());
    if (relayInput === undefined) return undefined;
    const relay = parseRelayUrl(relayInput.trim()).http;
    await this.context.globalState.update(TYPED_KEY, relay);
    const token =
      given?.token ??
      (await vscode.window.showInputBox({
        title: 'Tether: Sign In to Relay (2/2)',
        prompt: `Token for ${relay} (printed by "tether user create NAME")`,
        placeHolder: 'token',
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'Enter the token'),
      }));
    if (token === undefined) return undefined;
    return { relay, token: token.trim() };
  }

  /** Checks relay and token with GET /v1/whoami, then stores them; rejects with the relay's coded error. */
  async verify(relay: string, token: string): Promise<Credentials> {
    this.busy = true;
    this.changed.fire(this.current);
    try {
      const me = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Signing in to ${relay}…` },
        () => new RelayApi(relay, token).whoami(),
      );
      await this.context.secrets.store(secretKey(relay), token);
      await this.context.globalState.update(RELAY_KEY, relay);
      await this.context.globalState.update(USER_KEY, me.name);
      this.current = { relay, token, user: me.name };
      this.logger.info(`signed in to ${relay} as ${me.name}`);
      return this.current;
    } finally {
      this.busy = false;
      this.changed.fire(this.current);
    }
  }

  /** prompt() then verify(); false when the user cancels. */
  async signIn(given?: { relay?: string; token?: string }): Promise<boolean> {
    const answer = await this.prompt(given);
    if (!answer) return false;
    await this.verify(answer.relay, answer.token);
    return true;
  }

  async signOut(): Promise<void> {
    const relay = this.current?.relay ?? this.context.globalState.get<string>(RELAY_KEY);
    if (relay) await this.context.secrets.delete(secretKey(relay));
    await this.context.globalState.update(RELAY_KEY, undefined);
    await this.context.globalState.update(USER_KEY, undefined);
    this.current = undefined;
    this.logger.info(`signed out${relay ? ` of ${relay}` : ''}`);
    this.changed.fire(undefined);
  }

  private async askRelay(): Promise<string | undefined> {
    const known = this.config.settings.relayUrls;
    const last = this.context.globalState.get<string>(RELAY_KEY);
    const validateInput = (v: string): string | undefined => {
      try {
        parseRelayUrl(v.trim());
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    };
    const ask = (value: string): Thenable<string | undefined> =>
      vscode.window.showInputBox({
        title: 'Tether: Sign In to Relay (1/2)',
        prompt: 'Relay URL (the URL "tether relay" prints)',
        value,
        ignoreFocusOut: true,
        validateInput,
      });
    if (known.length > 1) {
      const other = 'Another relay…';
      const pick = await vscode.window.showQuickPick([...known, other], { title: 'Tether: Sign In to Relay', placeHolder: 'Relay' });
      if (pick === undefined) return undefined;
      if (pick !== other) return pick;
      return ask('');
    }
    // What was typed last (a failed attempt, or the relay signed out of) beats the defaults.
    const typed = this.context.globalState.get<string>(TYPED_KEY);
    return ask(typed ?? known[0] ?? last ?? 'http://127.0.0.1:8080');
  }

  dispose(): void {
    this.changed.dispose();
  }
}
