import * as vscode from 'vscode';
import { ErrorCode, isTetherError } from '@tether/shared';
import { RelayApi } from '../core/index.js';
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
const RELAY_POLL_MS = 2000;

/** The relay is not there (yet): a restore waits for it instead of failing. */
const RELAY_NOT_THERE = new Set<string>([ErrorCode.RELAY_UNREACHABLE, ErrorCode.NO_RELAY, ErrorCode.TIMEOUT, ErrorCode.CONNECTION_LOST]);

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
    let waiting: Promise<boolean> | undefined;
    /**
     * Runs one restore; while the relay is not there yet (VS Code started before the network or
     * the relay), waits for it, saying so once, instead of one failure per share.
     */
    const restoreOne = async (what: string, run: () => Promise<string>): Promise<void> => {
      for (;;) {
        try {
          back.push(await run());
          return;
        } catch (err) {
          if (!(isTetherError(err) && RELAY_NOT_THERE.has(err.code))) {
            notifier.failure(err, what, run);
            return;
          }
          if (!waiting) {
            this.logger.info(`restore: ${err.message}; waiting for the relay`);
            notifier.warn(`Tether: ${credentials.relay} does not answer yet: what this window shared and connected to comes back once it does.`);
            waiting = this.relayAnswers(credentials);
          }
          if (!(await waiting)) return; // signed out or switched meanwhile: nothing to restore
          waiting = undefined;
        }
      }
    };
    await Promise.all([
      ...saved.shares.map(({ name, host, port }) =>
        restoreOne(`Restoring the share ${name}`, async () => {
          await this.sharing.start(credentials, name, { host, port });
          return `sharing ${name}`;
        }),
      ),
      ...saved.listeners.map((tunnel) =>
        restoreOne(`Restoring the connection to ${tunnel}`, async () => {
          const { port } = await this.connections.connect(credentials, tunnel);
          return `${tunnel} on 127.0.0.1:${port}`;
        }),
      ),
    ]);
    if (back.length > 0) {
      this.logger.info(`restored: ${back.join(', ')}`);
      notifier.info(`Tether: restored ${back.join(', ')} (tether.restoreSessions).`);
    }
  }

  /** Resolves true once the relay answers, false when the sign-in changed first (asked every 2 s). */
  private async relayAnswers(credentials: Credentials): Promise<boolean> {
    const api = new RelayApi(credentials.relay, credentials.token, 5000);
    for (;;) {
      if (this.auth.credentials !== credentials) return false;
      try {
        await api.whoami();
        return true;
      } catch (err) {
        // Another answer (a refused token, say) is for the restore itself to report.
        if (!(isTetherError(err) && RELAY_NOT_THERE.has(err.code))) return true;
      }
      await new Promise((resolve) => setTimeout(resolve, RELAY_POLL_MS));
    }
  }

  private write(relay: string, session: SavedSession): void {
    const all = { ...(this.state.get<Record<string, SavedSession>>(KEY) ?? {}) };
    if (session.shares.length === 0 && session.listeners.length === 0) delete all[relay];
    else all[relay] = session;
    void this.state.update(KEY, all);
  }
}
