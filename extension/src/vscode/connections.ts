import type net from 'node:net';
import * as vscode from 'vscode';
import { MuxDuplex, type ByteStream, type TetherError } from '@tether/shared';
import {
  Connector, RelayApi, webSocketFactory, type ActiveConnection, type ConnectionSnapshot, type DiagnosticsModel, type PoolState, type SessionRtt,
} from '../core/index.js';
import { relayClientOptions } from '../core/settings.js';
import { relayChangeLine, relayUse, type RelayLink, type RelayUse } from '../core/tunnel-list.js';
import type { Credentials } from './auth.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notify.js';

/** One Connector (a pool of relay sessions) and what rides on it. */
interface Pool {
  connector: Connector;
  /** The relay options it was made with (JSON): another value means the settings changed. */
  key: string;
  relays: RelayUse | undefined;
  /** Why no relay is up, while none is. */
  lastError: string | undefined;
  /** Listeners and terminals using it. */
  users: number;
}

interface Listener {
  id: string;
  tunnel: string;
  pool: Pool;
  server: net.Server;
  port: number;
  sockets: Set<net.Socket>;
  /** Bytes of sockets that already closed. */
  doneIn: number;
  doneOut: number;
}

interface Terminal {
  id: string;
  tunnel: string;
  pool: Pool;
  stream: ByteStream;
}

const PORTS_KEY = 'tether.localPorts';
/** The connections' pool in the diagnostics panel. */
const POOL_LABEL = 'connections';

/**
 * Everything this window reaches through the relays: local listeners (Connect to Tunnel) and
 * streams for SSH terminals, over one Connector (a pool of relay sessions) per sign-in. The
 * Connector reconnects and fails over by itself; this follows its state for the status bar and
 * the log. When the relay settings change, new connections get a new Connector and the old one
 * is closed once the last connection on it ends (live ones are not restarted).
 */
export class Connections implements vscode.Disposable {
  private current: Pool | undefined;
  private currentFor: Credentials | undefined;
  /** Pools made with older settings, kept until their last connection closes. */
  private readonly retired = new Set<Pool>();
  private readonly listeners = new Map<string, Listener>();
  private readonly terminals = new Map<string, Terminal>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private nextId = 1;
  private readonly lastNotified = new Map<string, number>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly notifier: Notifier,
    private readonly diagnostics: DiagnosticsModel,
  ) {}

  get rttMs(): number {
    return this.current?.connector.rttMs ?? 0;
  }

  list(): ActiveConnection[] {
    const listeners = [...this.listeners.values()].map((l): ActiveConnection => {
      let bytesIn = l.doneIn;
      let bytesOut = l.doneOut;
      // Seen from the user: bytes that came from the tunnel are written to the local socket.
      for (const s of l.sockets) {
        bytesIn += s.bytesWritten;
        bytesOut += s.bytesRead;
      }
      return { id: l.id, tunnel: l.tunnel, kind: 'listener', localPort: l.port, openConnections: l.sockets.size, bytesIn, bytesOut, rttMs: l.pool.connector.rttMs };
    });
    const terminals = [...this.terminals.values()].map(
      (t): ActiveConnection => ({ id: t.id, tunnel: t.tunnel, kind: 'terminal', openConnections: 1, bytesIn: t.stream.bytesReceived, bytesOut: t.stream.bytesSent, rttMs: t.pool.connector.rttMs }),
    );
    return [...listeners, ...terminals];
  }

  /**
   * The link to the relays while listeners or terminals need it: reconnecting while some pool
   * in use has no relay up (the connector keeps retrying by itself), else up, with the relay
   * new connections go to.
   */
  get link(): RelayLink | undefined {
    const used = [...new Set([...this.listeners.values(), ...this.terminals.values()].map((c) => c.pool))];
    const known = used.filter((p) => p.relays);
    if (known.length === 0) return undefined;
    const down = known.find((p) => p.relays?.up === 0);
    if (down) return { state: 'reconnecting', lastError: down.lastError, relays: down.relays };
    const shown = known.includes(this.current as Pool) ? this.current : known[0];
    return { state: 'up', relays: shown?.relays };
  }

  /** The pool new connections use, for the diagnostics panel (none before the first connection). */
  diagnosticPools(): { label: string; state: PoolState; rtt: SessionRtt }[] {
    const state = this.current?.connector.state();
    return this.current && state ? [{ label: POOL_LABEL, state, rtt: this.current.connector.rtt() }] : [];
  }

  /** Each listener and terminal with the relays its streams ride on now, for the diagnostics panel. */
  diagnosticConnections(): ConnectionSnapshot[] {
    const counts = new Map(this.list().map((c) => [c.id, c]));
    const paths = [...new Set([...this.listeners.values(), ...this.terminals.values()].map((c) => c.pool))].flatMap((p) => p.connector.paths());
    const relaysOf = (tunnel: string, origin: string): string[] => [...new Set(paths.filter((p) => p.tunnel === tunnel && p.origin === origin).map((p) => (p.relay === undefined ? 'resuming' : p.node ? `${p.relay} (node ${p.node})` : p.relay)))];
    const listeners = [...this.listeners.values()].map((l): ConnectionSnapshot => {
      const c = counts.get(l.id);
      const origin = `127.0.0.1:${l.port}`;
      const next = l.pool.connector.state()?.active;
      return { id: l.id, tunnel: l.tunnel, origin, relays: relaysOf(l.tunnel, origin), ...(next ? { next } : {}), openStreams: l.sockets.size, bytesIn: c?.bytesIn ?? 0, bytesOut: c?.bytesOut ?? 0 };
    });
    const terminals = [...this.terminals.values()].map((t): ConnectionSnapshot => ({
      id: t.id, tunnel: t.tunnel, origin: 'SSH terminal', relays: relaysOf(t.tunnel, t.id), openStreams: 1, bytesIn: t.stream.bytesReceived, bytesOut: t.stream.bytesSent,
    }));
    return [...listeners, ...terminals];
  }

  /** The listener for `tunnel`, if there is one. */
  listenerFor(tunnel: string): { id: string; port: number } | undefined {
    return [...this.listeners.values()].find((l) => l.tunnel === tunnel);
  }

  /** The pool for new connections: the current one unless the sign-in or the relay settings changed. */
  private poolFor(credentials: Credentials): Pool {
    const options = relayClientOptions(this.config.settings, credentials.relay);
    const key = JSON.stringify(options);
    if (this.current && this.currentFor === credentials && this.current.key === key) return this.current;
    if (this.currentFor !== credentials) this.closeAll();
    else if (this.current) this.retire(this.current);
    const connector = new Connector(webSocketFactory({ relay: credentials.relay, token: credentials.token }), options);
    const pool: Pool = { connector, key, relays: undefined, lastError: undefined, users: 0 };
    if (options.endpoints.length > 1) this.logger.info(`connections: relays ${options.endpoints.map((e) => e.url).join(', ')}`);
    connector.on('state', (state) => this.poolState(pool, state));
    connector.on('rtt', (relay, ms) => this.diagnostics.rtt(POOL_LABEL, relay, ms));
    connector.on('connectionError', (remote, err: TetherError, tunnel) => this.connectionFailed(remote, err, tunnel));
    connector.on('connectionClosed', (remote, err) => {
      if (err) this.logger.debug(`${remote}: closed: ${err.message} [${err.code}]`);
    });
    connector.on('listenError', (err) => this.logger.warn(`listener error: ${err.message}`));
    connector.on('streamDetached', (tunnel, err) => {
      this.logger.info(`${tunnel}: a connection lost its relay (${err.message} [${err.code}]); resuming it through another`);
      this.diagnostics.streamDetached(tunnel, err);
    });
    connector.on('streamResumed', (tunnel, attempt) => {
      this.logger.info(`${tunnel}: a connection resumed through another relay (attempt ${attempt})`);
      this.diagnostics.streamResumed(tunnel);
    });
    this.current = pool;
    this.currentFor = credentials;
    return pool;
  }

  private poolState(pool: Pool, state: PoolState): void {
    if (pool === this.current) this.diagnostics.poolState(POOL_LABEL, state);
    const relays = relayUse(state);
    const line = relayChangeLine(pool.relays, relays);
    pool.relays = relays;
    const failing = state.endpoints.find((e) => e.lastError);
    pool.lastError = state.live === 0 ? (failing?.lastError?.message ?? 'no relay reachable') : undefined;
    if (line && pool.users > 0) {
      if (relays.active === undefined) this.logger.warn(`${line}${pool.lastError ? `: ${pool.lastError}` : ''} [connections]`);
      else this.logger.info(`${line} [connections]`);
    } else if (line) {
      this.logger.debug(`${line} [connections]`);
    }
    this.changed.fire();
  }

  /** Settings changed: the pool takes no new connections and closes with its last one. */
  private retire(pool: Pool): void {
    this.current = undefined;
    if (pool.users === 0) {
      pool.connector.close();
      return;
    }
    this.retired.add(pool);
    this.logger.info(`relay settings changed: new connections use them; ${pool.users} open keep their relays until they close`);
  }

  private release(pool: Pool): void {
    pool.users--;
    if (pool.users === 0 && this.retired.delete(pool)) pool.connector.close();
  }

  private connectionFailed(remote: string, err: TetherError, tunnel: string): void {
    this.logger.warn(`${remote} → ${tunnel}: ${err.message} [${err.code}]`);
    this.diagnostics.failure(`${remote} → ${tunnel}`, err);
    // A client such as Remote-SSH retries quickly: one notification per kind of failure a minute.
    const last = this.lastNotified.get(err.code) ?? 0;
    if (Date.now() - last < 60_000) return;
    this.lastNotified.set(err.code, Date.now());
    this.notifier.failure(err, `A connection to ${tunnel} through Tether`);
  }

  /**
   * Listens on a free loopback port for `tunnel` (the one used last time for it when free, so
   * an SSH config entry stays valid); reuses an existing listener for the tunnel.
   */
  async connect(credentials: Credentials, tunnel: string): Promise<{ id: string; port: number }> {
    const existing = this.listenerFor(tunnel);
    if (existing && this.currentFor === credentials) return existing;
    // Fail fast with the relay's own words on a tunnel that is unknown or not ours to use.
    await new RelayApi(credentials.relay, credentials.token).tunnel(tunnel);
    const pool = this.poolFor(credentials);
    const { connector } = pool;
    // Starts the pool: fails fast (with the relay's coded error) when no relay answers.
    await connector.session();
    const ports = this.context.globalState.get<Record<string, number>>(PORTS_KEY) ?? {};
    let server: net.Server;
    try {
      server = await connector.listen(tunnel, '127.0.0.1', ports[tunnel] ?? 0);
    } catch (err) {
      if (!ports[tunnel]) throw err;
      this.logger.info(`port ${ports[tunnel]} is taken; ${tunnel} gets a new one`);
      server = await connector.listen(tunnel, '127.0.0.1', 0);
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await this.context.globalState.update(PORTS_KEY, { ...ports, [tunnel]: port });
    const listener: Listener = { id: `listener-${this.nextId++}`, tunnel, pool, server, port, sockets: new Set(), doneIn: 0, doneOut: 0 };
    pool.users++;
    server.on('connection', (socket: net.Socket) => {
      listener.sockets.add(socket);
      this.changed.fire();
      socket.once('close', () => {
        listener.sockets.delete(socket);
        listener.doneIn += socket.bytesWritten;
        listener.doneOut += socket.bytesRead;
        this.changed.fire();
      });
    });
    this.listeners.set(listener.id, listener);
    this.logger.info(`listening on 127.0.0.1:${port} for tunnel ${tunnel}`);
    this.changed.fire();
    return { id: listener.id, port };
  }

  /** Opens one stream to `tunnel` for an SSH terminal; it shows in the view until it closes. */
  async openStream(credentials: Credentials, tunnel: string): Promise<MuxDuplex> {
    const pool = this.poolFor(credentials);
    const id = `terminal-${this.nextId++}`;
    const stream = await pool.connector.open(tunnel, id);
    const terminal: Terminal = { id, tunnel, pool, stream };
    this.terminals.set(terminal.id, terminal);
    pool.users++;
    stream.once('close', () => {
      if (this.terminals.delete(terminal.id)) this.release(pool);
      this.changed.fire();
    });
    this.changed.fire();
    return new MuxDuplex(stream);
  }

  /** Closes a listener and its connections. */
  disconnect(id: string): void {
    const listener = this.listeners.get(id);
    if (!listener) return;
    this.listeners.delete(id);
    listener.server.close();
    for (const socket of listener.sockets) socket.destroy();
    this.release(listener.pool);
    this.logger.info(`closed 127.0.0.1:${listener.port} (${listener.tunnel})`);
    this.changed.fire();
  }

  /** Closes everything: on sign-out, a new sign-in, or deactivation. */
  closeAll(): void {
    for (const id of [...this.listeners.keys()]) this.disconnect(id);
    for (const pool of [...this.retired, ...(this.current ? [this.current] : [])]) pool.connector.close();
    this.retired.clear();
    this.current = undefined;
    this.currentFor = undefined;
    this.changed.fire();
  }

  dispose(): void {
    this.closeAll();
    this.changed.dispose();
  }
}
