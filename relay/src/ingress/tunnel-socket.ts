import { MuxDuplex, type MuxStream } from '@tether/shared';

/**
 * A tunnel stream as Node's HTTP client wants its sockets: a Duplex that also answers the
 * net.Socket calls an http.Agent makes on the sockets it keeps alive. `setTimeout` is real (an
 * idle keep-alive stream is closed by the agent when it fires); the rest mean nothing here.
 */
export class TunnelSocket extends MuxDuplex {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 0;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(stream: MuxStream) {
    super(stream);
    stream.on('data', () => this.touch());
    this.on('close', () => clearTimeout(this.idleTimer));
  }

  /** The idle timeout in force (net.Socket's field; the agent reads it to skip needless calls). */
  timeout = 0;

  /**
   * As net.Socket's: `ms` 0 turns the timeout off and takes `callback` off 'timeout'. Node's
   * HTTP client adds a 'timeout' listener per request on a kept-alive socket and removes it
   * this way once the response is done; were it added again instead, every request would
   * leave one more listener behind on the stream for as long as it is kept alive.
   */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    this.idleMs = ms;
    if (callback) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    this.touch();
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.touch();
    super._write(chunk, encoding, callback);
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.idleMs <= 0 || this.destroyed) return;
    this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
    this.idleTimer.unref();
  }
}
