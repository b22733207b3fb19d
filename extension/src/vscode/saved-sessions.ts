import * as vscode from 'vscode';
import type { Auth, Credentials } from './auth.js';
import type { Connections } from './connections.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notify.js';
import type { Sharing } from './sharing.js';

/** What this window shared and listened for on one relay, to bring back after a reload or restart. */
export interface SavedSession {
  shares: { name: string; host: string; port: number }[];
  listeners: string[];
}

const KEY = 'tether.savedSessions';

/**
 * The shares and local listeners of this window, per relay, in the workspace state (another
 * window keeps its own). Saved by the commands that change them (share, stop, connect,
 * disconnect, sign out) — never on deactivation, which stops everything but must not forget
 * it — and restored on activation when `tether.restoreSessions` is on.
 */
export class SavedSessions {
  constructor(
    private readonly state: vscode.Memento,
    private readonly auth: Auth,
    private readonly sharing: Sharing,
    private readonly connections: Connections,
    private readonly logger: Logger,
  ) {}

  /** Records what this window shares and listens for now, for the relay signed in to. */
  snapshot(): void {
    const relay = this.auth.credentials?.relay;
    if (!relay) return;
    this.write(relay, {
      shares: this.sharing.list().filter((t) => t.state !== 'failed').map((t) => ({ name: t.name, host: t.target.host, port: t.target.port })),
      listeners: [...new Set(this.connections.list().filter((c) => c.kind === 'listener').map((c) => c.tunnel))],
    });
  }

  /** Forgets what was saved for `relay` (signing out of it). */
  forget(relay: string): void {
    this.write(relay, { shares: [], listeners: [] });
  }

  load(relay: string): SavedSession {
    const saved = (this.state.get<Record<string, SavedSession>>(KEY) ?? {})[relay];
    return { shares: Array.isArray(saved?.shares) ? saved.shares : [], listeners: Array.isArray(saved?.listeners) ? saved.listeners : [] };
  }

  /**
   * Shares and listens again for what was saved for the signed-in relay; each failure is one
   * notification with Retry. Says once what came back.
   */
  async restore(credentials: Credentials, notifier: Notifier): Promise<void> {
    const saved = this.load(credentials.relay);
    if (saved.shares.length === 0 && saved.listeners.length === 0) return;
    const back: string[] = [];
    await Promise.all([
      ...saved.shares.map(async ({ name, host, port }) => {
        const start = (): Promise<void> => this.sharing.start(credentials, name, { host, port });
        try {
          await start();
          back.push(`sharing ${name}`);
        } catch (err) {
          notifier.failure(err, `Restoring the share ${name}`, start);
        }
      }),
      ...saved.listeners.map(async (tunnel) => {
        const connect = (): Promise<unknown> => this.connections.connect(credentials, tunnel);
        try {
          const { port } = await this.connections.connect(credentials, tunnel);
          back.push(`${tunnel} on 127.0.0.1:${port}`);
        } catch (err) {
          notifier.failure(err, `Restoring the connection to ${tunnel}`, connect);
        }
      }),
    ]);
    if (back.length > 0) {
      this.logger.info(`restored: ${back.join(', ')}`);
      notifier.info(`Tether: restored ${back.join(', ')} (tether.restoreSessions).`);
    }
  }

  private write(relay: string, session: SavedSession): void {
    const all = { ...(this.state.get<Record<string, SavedSession>>(KEY) ?? {}) };
    if (session.shares.length === 0 && session.listeners.length === 0) delete all[relay];
    else all[relay] = session;
    void this.state.update(KEY, all);
  }
}
