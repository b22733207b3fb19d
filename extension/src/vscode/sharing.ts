import * as vscode from 'vscode';
import type { TetherError } from '@tether/shared';
import { HostAgent, webSocketFactory, type SharedTunnel } from '../core/index.js';
import type { Credentials } from './auth.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notify.js';

interface Share {
  agent: HostAgent;
  info: SharedTunnel;
  /** The user was told about the current outage already. */
  warned: boolean;
}

/** The tunnels this window shares: one HostAgent each, with their state for the view. */
export class Sharing implements vscode.Disposable {
  private readonly shares = new Map<string, Share>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly logger: Logger,
    private readonly notifier: Notifier,
  ) {}

  list(): SharedTunnel[] {
    return [...this.shares.values()].map((s) => ({ ...s.info, activeStreams: s.agent.activeStreams, rttMs: s.agent.rttMs }));
  }

  names(): string[] {
    return [...this.shares.keys()];
  }

  /** Starts sharing; resolves once the relay registered the tunnel, rejects with its coded error. */
  async start(credentials: Credentials, tunnel: string, target: { host: string; port: number }): Promise<void> {
    if (this.shares.has(tunnel)) await this.stop(tunnel);
    const agent = new HostAgent({ tunnel, target, factory: webSocketFactory({ relay: credentials.relay, token: credentials.token }) });
    const share: Share = { agent, info: { name: tunnel, target, state: 'connecting', activeStreams: 0, rttMs: 0 }, warned: false };
    const update = (state: SharedTunnel['state'], lastError?: string): void => {
      share.info = { ...share.info, state, lastError };
      this.changed.fire();
    };
    const restart = async (): Promise<void> => {
      await this.start(credentials, tunnel, target);
    };
    agent.on('ready', () => {
      share.warned = false;
      this.logger.info(`sharing ${target.host}:${target.port} as ${tunnel}`);
      update('online');
    });
    agent.on('disconnected', (err: TetherError, retryIn) => {
      this.logger.warn(`${tunnel}: ${err.message} [${err.code}]${retryIn === undefined ? '' : `; reconnecting in ${Math.round(retryIn)} ms`}`);
      update(retryIn === undefined ? 'failed' : 'reconnecting', err.message);
      if (this.shares.get(tunnel) !== share) return;
      if (retryIn === undefined) {
        // Stopped for good: the agent will not reconnect by itself.
        this.notifier.failure(err, `Sharing ${tunnel}`, restart);
      } else if (!share.warned) {
        // Reconnecting by itself: a warning, not a failure, and one per outage, not one per attempt.
        share.warned = true;
        this.lostRelay(tunnel, err);
      }
    });
    agent.on('error', (err) => {
      update('failed', err.message);
      if (this.shares.get(tunnel) === share) this.notifier.failure(err, `Sharing ${tunnel}`, restart);
    });
    agent.on('stream', () => this.changed.fire());
    agent.on('streamClosed', (id, err) => {
      if (err) this.logger.debug(`${tunnel}: stream ${id} closed: ${err.message} [${err.code}]`);
      this.changed.fire();
    });
    this.shares.set(tunnel, share);
    this.changed.fire();
    try {
      await agent.start();
    } catch (err) {
      this.shares.delete(tunnel);
      this.changed.fire();
      throw err;
    }
  }

  /** Tells the user a share lost its relay and is reconnecting on its own. */
  private lostRelay(tunnel: string, err: TetherError): void {
    const message = `Sharing ${tunnel}: lost the relay (${err.message.replace(/\.$/, '')}); reconnecting [${err.code}]`;
    vscode.window.showWarningMessage(message, 'Show Log').then(
      (choice) => {
        if (choice === 'Show Log') this.logger.show();
      },
      (e: unknown) => this.logger.error(`cannot show a notification: ${String(e)}`),
    );
  }

  async stop(tunnel: string): Promise<void> {
    const share = this.shares.get(tunnel);
    if (!share) return;
    this.shares.delete(tunnel);
    this.changed.fire();
    await share.agent.stop(2000);
    this.logger.info(`stopped sharing ${tunnel}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.stop(name)));
  }

  dispose(): void {
    void this.stopAll();
    this.changed.dispose();
  }
}
