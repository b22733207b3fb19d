import * as vscode from 'vscode';
import { ErrorCode, isTetherError } from '@tether/shared';
import { RelayApi, type ClientState, type ReachableTunnel } from '../core/index.js';
import type { Auth } from './auth.js';
import type { Connections } from './connections.js';
import type { Logger } from './logger.js';
import type { Sharing } from './sharing.js';

/**
 * The one ClientState the view and the status bar render, rebuilt from the auth, sharing and
 * connection services; also keeps the relay's list of reachable tunnels.
 */
export class StateModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private reachable: ReachableTunnel[] = [];
  private reachableError: string | undefined;
  /** The relay did not answer the last listing: asked again every tick until it does. */
  private relayDown = false;
  private readonly subscriptions: vscode.Disposable[];
  private readonly ticker: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private sharedKey = '';
  private ticks = 0;
  private hideOffline = false;

  constructor(
    private readonly auth: Auth,
    private readonly sharing: Sharing,
    private readonly connections: Connections,
    private readonly logger: Logger,
  ) {
    this.subscriptions = [
      auth.onDidChange(() => {
        this.reachable = [];
        this.reachableError = undefined;
        this.relayDown = false;
        this.fire();
        void this.refreshReachable();
      }),
      sharing.onDidChange(() => {
        // A tunnel we start or stop sharing changes what the relay lists as reachable.
        const key = sharing.list().map((t) => `${t.name}:${t.state}`).sort().join(',');
        if (key !== this.sharedKey) {
          this.sharedKey = key;
          void this.refreshReachable();
        }
        this.fire();
      }),
      connections.onDidChange(() => this.fire()),
    ];
    // Bytes and RTT change without events: re-render while something is active.
    // Others' tunnels come and go without events: re-list them every 30 s.
    this.ticker = setInterval(() => {
      if (this.sharing.names().length || this.connections.list().length) this.fire();
      // A relay that did not answer is asked every tick, so its return shows within seconds.
      if (++this.ticks % 15 === 0 || this.relayDown) void this.refreshReachable();
    }, 2000);
    this.ticker.unref();
  }

  get state(): ClientState {
    const credentials = this.auth.credentials;
    return {
      relay: credentials?.relay,
      user: credentials?.user,
      busy: this.auth.busy,
      shared: this.sharing.list(),
      reachable: this.reachable,
      reachableError: this.reachableError,
      relayDown: this.relayDown,
      connections: this.connections.list(),
      link: this.connections.link,
      hideOffline: this.hideOffline,
    };
  }

  /** Leaves offline tunnels out of the view (which counts them). */
  setHideOffline(hide: boolean): void {
    this.hideOffline = hide;
    this.fire();
  }

  /** Coalesces bursts of changes into one render. */
  private fire(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, 50);
  }

  /** Re-reads GET /v1/tunnels; a failure shows in the view rather than as a notification. */
  async refreshReachable(): Promise<void> {
    const credentials = this.auth.credentials;
    if (!credentials) return;
    try {
      const tunnels = await new RelayApi(credentials.relay, credentials.token).tunnels();
      if (this.auth.credentials !== credentials) return;
      this.reachable = tunnels.map(({ name, owner, online, role }) => ({ name, owner, online, role }));
      this.reachableError = undefined;
      this.relayDown = false;
    } catch (err) {
      if (this.auth.credentials !== credentials) return;
      const down = isTetherError(err) && err.code === ErrorCode.RELAY_UNREACHABLE;
      // Logged once per outage, not on every retry.
      if (!(down && this.relayDown)) this.logger.warn(`cannot list tunnels: ${(err as Error).message}`);
      this.reachableError = (err as Error).message;
      this.relayDown = down;
    }
    this.fire();
  }

  dispose(): void {
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
