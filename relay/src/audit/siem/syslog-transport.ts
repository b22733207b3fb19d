import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { SiemTransport } from './siem-transport.js';

export interface SyslogTarget {
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  /** PEM of the CA that signed the collector's certificate (default: the system's). */
  ca?: string;
  /** The name the certificate must carry (default: the host, when it is a name). */
  servername?: string;
}

export interface SyslogTransportOptions {
  /** How long a connection may take (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * Octet-counted syslog over one TCP or TLS connection (RFC 6587 / RFC 5425), opened on the first
 * send and again after any error. Writes respect backpressure (the next message waits for
 * 'drain'); a batch counts as sent once the socket's write callbacks have all run, which is as
 * far as plain syslog can acknowledge (there is no application-level ack: RELP would add one).
 */
export class SyslogTransport implements SiemTransport {
  private socket: net.Socket | undefined;
  private failure: Error | undefined;
  private closed = false;
  private connections = 0;

  constructor(private readonly target: SyslogTarget, private readonly options: SyslogTransportOptions = {}) {}

  get connection(): number {
    return this.connections;
  }

  get lastError(): string | undefined {
    return this.failure?.message;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && this.failure === undefined;
  }

  async send(messages: readonly Buffer[]): Promise<void> {
    const socket = this.socket && !this.socket.destroyed && !this.failure ? this.socket : await this.connect();
    const written: Promise<void>[] = [];
    for (const message of messages) {
      if (this.failure) break;
      written.push(new Promise((resolve, reject) => socket.write(message, (err) => (err ? reject(err) : resolve()))));
      if (socket.writableNeedDrain) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    }
    const results = await Promise.allSettled(written);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.failure || rejected || results.length < messages.length) throw this.failure ?? (rejected?.reason as Error) ?? new Error('the connection closed');
  }

  private async connect(): Promise<net.Socket> {
    if (this.closed) throw new Error('the syslog transport is closed');
    this.socket?.destroy();
    this.failure = undefined;
    const { protocol, host, port, ca, servername } = this.target;
    const socket = protocol === 'tls'
      ? tls.connect({ host, port, ca, servername: servername ?? (net.isIP(host) ? undefined : host) })
      : net.connect({ host, port });
    this.socket = socket;
    this.connections++;
    // Every socket has an 'error' listener: a failure is kept for the forwarder, never thrown.
    socket.on('error', (err) => {
      this.failure ??= err;
    });
    socket.on('close', () => {
      this.failure ??= new Error('the collector closed the connection');
    });
    // Whatever the collector sends (nothing, in syslog) is read and dropped.
    socket.on('data', () => undefined);
    socket.setKeepAlive(true, 30_000);
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    socket.setTimeout(timeout, () => socket.destroy(new Error(`no connection within ${timeout} ms`)));
    try {
      await Promise.race([once(socket, protocol === 'tls' ? 'secureConnect' : 'connect'), once(socket, 'close').then(() => Promise.reject(this.failure ?? new Error('the connection closed')))]);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    socket.setTimeout(0);
    return socket;
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
    const socket = this.socket;
    setTimeout(() => socket?.destroy(), 1000).unref();
  }
}
