import * as vscode from 'vscode';
import { ErrorCode, type TetherError } from '@tether/shared';
import { HostAgent, targetListens, webSocketFactory, type DiagnosticsModel, type PoolState, type SessionRtt, type SharedTunnel } from '../core/index.js';
import { relayClientOptions } from '../core/settings.js';
import { describeRelayUse, relayChangeLine, relayUse, type RelayUse } from '../core/tunnel-list.js';
import type { Credentials } from './auth.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notify.js';

/** A share's pool in the diagnostics panel. */
const poolLabel = (tunnel: string): string => `sharing ${tunnel}`;

interface Share {
  agent: HostAgent;
  info: SharedTunnel;
  /** The user was told about the current outage (no relay at all) already. */
  warned: boolean;
  relays: RelayUse | undefined;
}

/** The tunnels this window shares: one HostAgent each, with their state for the view. */
export class Sharing implements vscode.Disposable {
  private readonly shares = new Map<string, Share>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly notifier: Notifier,
    private readonly diagnostics: DiagnosticsModel,
  ) {}

  /** Each share's relay pool, for the diagnostics panel. */
  diagnosticPools(): { label: string; state: PoolState; rtt: SessionRtt }[] {
    return [...this.shares.entries()].map(([tunnel, share]) => ({ label: poolLabel(tunnel), state: share.agent.state(), rtt: share.agent.rtt() }));
  }

  list(): SharedTunnel[] {
    return [...this.shares.values()].map((s) => ({ ...s.info, activeStreams: s.agent.activeStreams, resumingStreams: s.agent.resumingStreams, rttMs: s.agent.rttMs, relays: s.relays }));
  }

  names(): string[] {
    return [...this.shares.keys()];
  }

  /**
   * Starts sharing; resolves once a relay registered the tunnel, rejects with its coded error.
   * The relays and failover settings are read now: a change applies to the next share.
   */
  async start(credentials: Credentials, tunnel: string, target: { host: string; port: number }): Promise<void> {
    if (this.shares.has(tunnel)) await this.stop(tunnel);
    const { endpoints, pool, resumable } = relayClientOptions(this.config.settings, credentials.relay);
    // The resume timeout setting is the connections' (how long they try); a host waits longer by
    // default (see HOST_RESUME_TIMEOUT_MS), so only the replay buffer is passed on.
    const agent = new HostAgent({
      tunnel,
      target,
      endpoints,
      pool,
      resumable: { replayBufferBytes: resumable.replayBufferBytes },
      factory: webSocketFactory({ relay: credentials.relay, token: credentials.token }),
    });
    const share: Share = { agent, info: { name: tunnel, target, state: 'connecting', activeStreams: 0, rttMs: 0 }, warned: false, relays: undefined };
    const update = (state: SharedTunnel['state'], lastError?: string): void => {
      share.info = { ...share.info, state, lastError };
      this.changed.fire();
    };
    const restart = async (): Promise<void> => {
      await this.start(credentials, tunnel, target);
    };
    const current = (): boolean => this.shares.get(tunnel) === share;
    if (endpoints.length > 1) this.logger.info(`${tunnel}: relays ${endpoints.map((e) => e.url).join(', ')}`);
    agent.on('ready', () => {
      if (share.info.state === 'online') return; // one more relay of the pool: not news
      share.warned = false;
      this.logger.info(`sharing ${target.host}:${target.port} as ${tunnel}`);
      update('online');
    });
    const label = poolLabel(tunnel);
    agent.on('rtt', (relay, ms) => this.diagnostics.rtt(label, relay, ms));
    agent.on('state', (state) => {
      if (current()) this.diagnostics.poolState(label, state);
      const relays = relayUse(state);
      const line = relayChangeLine(share.relays, relays);
      share.relays = relays;
      if (line && current()) {
        if (relays.active === undefined) this.logger.warn(`${line} [sharing ${tunnel}]`);
        else this.logger.info(`${line} [sharing ${tunnel}]`);
      }
      this.changed.fire();
    });
    agent.on('disconnected', (err: TetherError, retryIn) => {
      const left = agent.state().live;
      const where = share.relays && share.relays.total > 1 ? `; ${describeRelayUse({ ...share.relays, up: left })}` : '';
      if (current()) this.diagnostics.failure(label, err);
      this.logger.warn(`${tunnel}: ${err.message} [${err.code}]${retryIn === undefined ? '' : `; reconnecting in ${Math.round(retryIn)} ms`}${where}`);
      if (!current()) return;
      if (retryIn === undefined) {
        // Stopped for good: the agent will not reconnect by itself.
        update('failed', err.message);
        this.notifier.failure(err, `Sharing ${tunnel}`, restart);
        return;
      }
      // Another relay of the pool still carries the tunnel: nothing for the user to see.
      if (left > 0) return;
      update('reconnecting', err.message);
      if (!share.warned) {
        // Reconnecting by itself: a warning, not a failure, and one per outage, not one per
        // attempt nor one per share: another share already warned of this outage says it all.
        const told = [...this.shares.values()].some((other) => other !== share && other.warned && other.info.state === 'reconnecting');
        share.warned = true;
        if (told) this.logger.info(`${tunnel}: lost the relay too; reconnecting`);
        else this.lostRelay(tunnel, err);
      }
    });
    agent.on('error', (err) => {
      this.diagnostics.failure(label, err);
      update('failed', err.message);
      if (current()) this.notifier.failure(err, `Sharing ${tunnel}`, restart);
    });
    agent.on('stream', () => this.changed.fire());
    agent.on('targetConnected', () => this.targetDown(share, false));
    agent.on('streamClosed', (id, err) => {
      if (err) this.logger.debug(`${tunnel}: stream ${id} closed: ${err.message} [${err.code}]`);
      if (err && err.code !== ErrorCode.STREAM_MOVED) this.diagnostics.failure(label, err);
      if (err?.code === ErrorCode.TARGET_REFUSED) this.targetDown(share, true);
      this.changed.fire();
    });
    agent.on('streamDetached', (id, err) => {
      this.logger.info(`${tunnel}: stream ${id.slice(0, 8)} lost its relay (${err.message} [${err.code}]); waiting for it to resume`);
      this.diagnostics.streamDetached(label, err);
    });
    agent.on('streamResumed', (id) => {
      this.logger.info(`${tunnel}: stream ${id.slice(0, 8)} resumed through another relay`);
      this.diagnostics.streamResumed(label);
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
    if (!(await targetListens(target))) this.targetDown(share, true);
  }

  /** Notes whether the target answers; says so once when it stops answering. */
  private targetDown(share: Share, down: boolean): void {
    if ((share.info.targetDown ?? false) === down) return;
    share.info = { ...share.info, targetDown: down };
    this.changed.fire();
    const { name, target } = share.info;
    if (!down) {
      this.logger.info(`${name}: ${target.host}:${target.port} answers again`);
      return;
    }
    this.notifier.warn(`Tether: sharing ${name}, but nothing listens on ${target.host}:${target.port}: connections through ${name} are refused until something does.`);
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

  /** Connections open through `tunnel` (0 when it is not shared here). */
  openStreams(tunnel: string): number {
    return this.shares.get(tunnel)?.agent.activeStreams ?? 0;
  }

  /**
   * Stops sharing `tunnel`: the relays are told at once (no new connections), open ones get
   * `drainMs` to finish, then are cut.
   */
  async stop(tunnel: string, drainMs = 2000): Promise<void> {
    const share = this.shares.get(tunnel);
    if (!share) return;
    this.shares.delete(tunnel);
    this.diagnostics.poolClosed(poolLabel(tunnel));
    this.changed.fire();
    await share.agent.stop(drainMs);
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
