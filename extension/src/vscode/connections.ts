import type net from 'node:net';
import * as vscode from 'vscode';
import { MuxDuplex, type ByteStream, type TetherError } from '@tether/shared';
import { Backoff, Connector, RelayApi, webSocketFactory, type ActiveConnection, type ClientState, type RelaySession } from '../core/index.js';
import type { Credentials } from './auth.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notify.js';

interface Listener {
  id: string;
  tunnel: string;
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
  stream: ByteStream;
}

const PORTS_KEY = 'tether.localPorts';

type RelayLink = NonNullable<ClientState['link']>;

/**
 * Everything this window reaches through the relay: local listeners (Connect to Tunnel) and
 * streams for SSH terminals, over one Connector (one WebSocket) per sign-in.
 */
export class Connections implements vscode.Disposable {
  private connector: Connector | undefined;
  private connectorFor: Credentials | undefined;
  private readonly listeners = new Map<string, Listener>();
  private readonly terminals = new Map<string, Terminal>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private nextId = 1;
  private readonly lastNotified = new Map<string, number>();
  /** The connector's relay session being watched, and what became of it. */
  private watched: RelaySession | undefined;
  private linkState: RelayLink | undefined;
  private readonly backoff = new Backoff(500, 10_000);
  private retryTimer: NodeJS.Timeout | undefined;
  private reconnecting = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly logger: Logger,
    private readonly notifier: Notifier,
  ) {}

  get rttMs(): number {
    return this.connector?.rttMs ?? 0;
  }

  list(): ActiveConnection[] {
    const rttMs = this.rttMs;
    const listeners = [...this.listeners.values()].map((l): ActiveConnection => {
      let bytesIn = l.doneIn;
      let bytesOut = l.doneOut;
      // Seen from the user: bytes that came from the tunnel are written to the local socket.
      for (const s of l.sockets) {
        bytesIn += s.bytesWritten;
        bytesOut += s.bytesRead;
      }
      return { id: l.id, tunnel: l.tunnel, kind: 'listener', localPort: l.port, openConnections: l.sockets.size, bytesIn, bytesOut, rttMs };
    });
    const terminals = [...this.terminals.values()].map(
      (t): ActiveConnection => ({ id: t.id, tunnel: t.tunnel, kind: 'terminal', openConnections: 1, bytesIn: t.stream.bytesReceived, bytesOut: t.stream.bytesSent, rttMs }),
    );
    return [...listeners, ...terminals];
  }

  /**
   * The connector's link to the relay while listeners or terminals need it. The Connector
   * itself reconnects only on demand; this keeps trying (with backoff) after a loss so the
   * status bar says when the relay is back, and new connections find a session ready.
   */
  get link(): RelayLink | undefined {
    return this.needsLink() ? this.linkState : undefined;
  }

  private needsLink(): boolean {
    return this.listeners.size > 0 || this.terminals.size > 0;
  }

  /** Follows `relay` (the connector's current session) until it closes. */
  private watch(connector: Connector, relay: RelaySession): void {
    if (this.connector !== connector || this.watched === relay) return;
    this.watched = relay;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.linkState?.state === 'reconnecting') this.logger.info('relay link is back');
    this.linkState = { state: 'up' };
    this.backoff.reset();
    this.changed.fire();
    void relay.closed.then((err) => {
      if (this.connector !== connector || this.watched !== relay) return;
      this.watched = undefined;
      if (!this.needsLink()) {
        this.linkState = undefined;
        this.changed.fire();
        return;
      }
      this.lost(connector, err?.message ?? 'the relay closed the connection', true);
    });
  }

  private lost(connector: Connector, why: string, first: boolean): void {
    this.linkState = { state: 'reconnecting', lastError: why };
    this.changed.fire();
    const delay = this.backoff.next();
    const line = `relay link ${first ? 'lost' : 'still down'}: ${why}; retrying in ${delay} ms`;
    if (first) this.logger.warn(line);
    else this.logger.debug(line);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.reconnect(connector), delay);
  }

  private async reconnect(connector: Connector): Promise<void> {
    this.retryTimer = undefined;
    if (this.connector !== connector || this.reconnecting) return;
    if (!this.needsLink()) {
      this.linkState = undefined;
      this.changed.fire();
      return;
    }
    this.reconnecting = true;
    try {
      this.watch(connector, await connector.session());
    } catch (err) {
      if (this.connector === connector) this.lost(connector, (err as Error).message, false);
    } finally {
      this.reconnecting = false;
    }
  }

  /** Tries the lost link again now (something else just reached the relay). */
  retryNow(): void {
    if (this.linkState?.state !== 'reconnecting' || !this.connector || this.reconnecting) return;
    clearTimeout(this.retryTimer);
    void this.reconnect(this.connector);
  }

  /** The listener for `tunnel`, if there is one. */
  listenerFor(tunnel: string): { id: string; port: number } | undefined {
    return [...this.listeners.values()].find((l) => l.tunnel === tunnel);
  }

  private connectorOf(credentials: Credentials): Connector {
    if (this.connector && this.connectorFor === credentials) return this.connector;
    this.closeAll();
    const connector = new Connector(webSocketFactory({ relay: credentials.relay, token: credentials.token }));
    connector.on('connectionError', (remote, err: TetherError) => this.connectionFailed(remote, err));
    connector.on('connectionClosed', (remote, err) => {
      if (err) this.logger.debug(`${remote}: closed: ${err.message} [${err.code}]`);
    });
    connector.on('listenError', (err) => this.logger.warn(`listener error: ${err.message}`));
    this.connector = connector;
    this.connectorFor = credentials;
    return connector;
  }

  private connectionFailed(remote: string, err: TetherError): void {
    this.logger.warn(`${remote}: ${err.message} [${err.code}]`);
    // A client such as Remote-SSH retries quickly: one notification per kind of failure a minute.
    const last = this.lastNotified.get(err.code) ?? 0;
    if (Date.now() - last < 60_000) return;
    this.lastNotified.set(err.code, Date.now());
    this.notifier.failure(err, 'A connection through Tether');
  }

  /**
   * Listens on a free loopback port for `tunnel` (the one used last time for it when free, so
   * an SSH config entry stays valid); reuses an existing listener for the tunnel.
   */
  async connect(credentials: Credentials, tunnel: string): Promise<{ id: string; port: number }> {
    const existing = this.listenerFor(tunnel);
    if (existing && this.connectorFor === credentials) return existing;
    // Fail fast with the relay's own words on a tunnel that is unknown or not ours to use.
    await new RelayApi(credentials.relay, credentials.token).tunnel(tunnel);
    const connector = this.connectorOf(credentials);
    this.watch(connector, await connector.session());
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
    const listener: Listener = { id: `listener-${this.nextId++}`, tunnel, server, port, sockets: new Set(), doneIn: 0, doneOut: 0 };
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
    const connector = this.connectorOf(credentials);
    this.watch(connector, await connector.session());
    const stream = await connector.open(tunnel);
    const terminal: Terminal = { id: `terminal-${this.nextId++}`, tunnel, stream };
    this.terminals.set(terminal.id, terminal);
    stream.once('close', () => {
      this.terminals.delete(terminal.id);
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
    this.logger.info(`closed 127.0.0.1:${listener.port} (${listener.tunnel})`);
    this.changed.fire();
  }

  /** Closes everything: on sign-out, a new sign-in, or deactivation. */
  closeAll(): void {
    for (const id of [...this.listeners.keys()]) this.disconnect(id);
    this.connector?.close();
    this.connector = undefined;
    this.connectorFor = undefined;
    this.watched = undefined;
    this.linkState = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.changed.fire();
  }

  dispose(): void {
    this.closeAll();
    this.changed.dispose();
  }
}
