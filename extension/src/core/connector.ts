import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { assertTunnelName, createError, ErrorCode, type MuxStream, type TetherError } from '@tether/shared';
import { bridge } from './bridge.js';
import type { RelaySession, SessionFactory } from './relay-session.js';

export interface ConnectorEvents {
  connection: [remote: string];
  connectionError: [remote: string, err: TetherError];
  connectionClosed: [remote: string, err: TetherError | undefined];
  listenError: [err: Error];
}

/**
 * Opens streams to tunnels over one shared relay session (reconnected on demand), and exposes
 * them as a local listener or on stdio. Used by `tether connect`/`tether proxy` and the
 * VS Code extension alike.
 */
export class Connector extends EventEmitter<ConnectorEvents> {
  private readonly factory: SessionFactory;
  private pending: Promise<RelaySession> | undefined;
  private current: RelaySession | undefined;
  private closed = false;
  private readonly servers = new Set<net.Server>();

  constructor(factory: SessionFactory) {
    super();
    this.factory = factory;
  }

  /** Round-trip time to the relay, in ms (0 until measured). */
  get rttMs(): number {
    return this.current?.session.rttMs ?? 0;
  }

  /** The session, connecting (or reconnecting) first when there is none. */
  async session(): Promise<RelaySession> {
    if (this.closed) throw createError(ErrorCode.CANCELLED, 'connector is closed');
    if (this.current && !this.current.session.closed && !this.current.session.remoteGoAway) return this.current;
    this.pending ??= this.factory('connect').then(
      (relay) => {
        this.current = relay;
        this.pending = undefined;
        void relay.closed.then(() => {
          if (this.current === relay) this.current = undefined;
        });
        return relay;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  /** Opens a stream to `tunnel`; resolves once the host accepted it, rejects with a coded error. */
  async open(tunnel: string): Promise<MuxStream> {
    assertTunnelName(tunnel);
    const relay = await this.session();
    const stream = relay.session.openStream(tunnel);
    return new Promise((resolve, reject) => {
      const onClose = (err: TetherError | undefined): void => {
        stream.off('open', onOpen);
        reject(err ?? createError(ErrorCode.STREAM_CLOSED, 'stream closed before it opened'));
      };
      const onOpen = (): void => {
        stream.off('close', onClose);
        resolve(stream);
      };
      stream.once('open', onOpen);
      stream.once('close', onClose);
    });
  }

  /** Joins a new stream to `input`/`output` (stdio for ProxyCommand); resolves when it ends. */
  async pipe(tunnel: string, input: Readable, output: Writable): Promise<TetherError | undefined> {
    const stream = await this.open(tunnel);
    return bridge(stream, input, output);
  }

  /** Listens on host:port; each accepted connection gets its own stream to `tunnel`. */
  async listen(tunnel: string, host: string, port: number): Promise<net.Server> {
    assertTunnelName(tunnel);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.on('error', () => undefined); // reported through the bridge
      socket.pause();
      this.emit('connection', remote);
      this.open(tunnel).then(
        async (stream) => {
          socket.resume();
          const err = await bridge(stream, socket, socket);
          this.emit('connectionClosed', remote, err);
        },
        (err: TetherError) => {
          socket.destroy();
          this.emit('connectionError', remote, err);
        },
      );
    });
    this.servers.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.servers.delete(server);
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(createError(ErrorCode.INVALID_ARGUMENT, `cannot listen on ${host}:${port}: ${why}`));
      });
      server.listen(port, host, () => {
        // Errors after listening (EMFILE on accept, say) must not crash the process.
        server.on('error', (err) => this.emit('listenError', err));
        resolve(server);
      });
    });
  }

  /** Closes listeners and the relay session. */
  close(): void {
    this.closed = true;
    for (const server of this.servers) server.close();
    this.servers.clear();
    this.current?.close();
  }
}
