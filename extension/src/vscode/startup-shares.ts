import * as vscode from 'vscode';
import { ErrorCode, isTetherError } from '@tether/shared';
import { withoutStartupShare, withStartupShare } from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { guarded, type Notifier } from './notify.js';
import { tunnelArgument } from './pick-tunnel.js';
import type { SavedSessions } from './saved-sessions.js';
import type { Sharing } from './sharing.js';

/**
 * `tether.shareOnStartup`: what this machine shares whenever VS Code starts signed in, or signs
 * in. A tunnel another window (or `tether share`) already shares is left to it: the relay
 * refuses a second host (TUNNEL_IN_USE), and that is logged, not shown as a failure.
 */
export class StartupShares {
  /** The identity the list was last shared for: once per sign-in, not on every change. */
  private doneFor: string | undefined;

  constructor(
    private readonly config: Config,
    private readonly sharing: Sharing,
    private readonly notifier: Notifier,
    private readonly logger: Logger,
    private readonly saved: SavedSessions,
  ) {}

  /** Shares each listed tunnel this window does not share yet, once per sign-in. */
  async run(credentials: Credentials): Promise<void> {
    const key = `${credentials.relay} ${credentials.user}`;
    if (this.doneFor === key) return;
    this.doneFor = key;
    const wanted = this.config.settings.startupShares.filter((s) => !this.sharing.names().includes(s.name));
    const started: string[] = [];
    await Promise.all(
      wanted.map(async ({ name, host, port }) => {
        const start = (): Promise<void> => this.sharing.start(credentials, name, { host, port });
        try {
          await start();
          started.push(`${name} (${host}:${port})`);
        } catch (err) {
          if (isTetherError(err) && err.code === ErrorCode.TUNNEL_IN_USE) {
            this.logger.info(`tether.shareOnStartup: ${name} is already shared elsewhere (another VS Code window, or 'tether share'): this window leaves it to that one`);
            return;
          }
          this.notifier.failure(err, `Sharing ${name} (tether.shareOnStartup)`, async () => {
            await start();
            this.saved.snapshot();
          });
        }
      }),
    );
    if (started.length > 0) {
      this.logger.info(`tether.shareOnStartup: sharing ${started.join(', ')}`);
      this.saved.snapshot();
    }
  }

  /** Signed out: the next sign-in shares the list again. */
  reset(): void {
    this.doneFor = undefined;
  }
}

/** Tether: Toggle Share on Startup — adds a shared tunnel to `tether.shareOnStartup`, or takes it out. */
export function registerStartupShareCommand(auth: Auth, sharing: Sharing, notifier: Notifier): vscode.Disposable[] {
  const toggle = guarded(notifier, 'Changing tether.shareOnStartup', async (arg?: unknown) => {
    await auth.require();
    const names = sharing.names();
    const tunnel = tunnelArgument(arg) ?? (names.length === 1 ? names[0] : await vscode.window.showQuickPick(names, { title: 'Tether: Toggle Share on Startup', placeHolder: names.length ? 'Shared tunnel' : 'Nothing is shared' }));
    if (!tunnel) return;
    const section = vscode.workspace.getConfiguration('tether');
    const current = section.get<unknown>('shareOnStartup');
    const listed = Array.isArray(current) && withoutStartupShare(current, tunnel).length !== current.length;
    if (listed) {
      await section.update('shareOnStartup', withoutStartupShare(current, tunnel), vscode.ConfigurationTarget.Global);
      notifier.info(`Tether: ${tunnel} is no longer shared when VS Code starts (tether.shareOnStartup).`);
      return;
    }
    const share = sharing.list().find((t) => t.name === tunnel);
    if (!share) {
      notifier.info(`Tether: share ${tunnel} first, then add it to tether.shareOnStartup.`);
      return;
    }
    await section.update('shareOnStartup', withStartupShare(current, { name: tunnel, ...share.target }), vscode.ConfigurationTarget.Global);
    notifier.info(`Tether: ${tunnel} (${share.target.host}:${share.target.port}) is shared whenever VS Code starts signed in on this machine (tether.shareOnStartup).`);
  });
  return [vscode.commands.registerCommand('tether.toggleShareOnStartup', toggle)];
}
