import { Duplex } from 'node:stream';
import { WireCode } from './errors.js';
import type { ByteStream } from './byte-stream.js';

/**
 * A Node Duplex over a MuxStream or a ResumableStream, for code that wants streams (ssh2's `sock`, pipeline()).
 * Credit goes back to the peer only as the reader takes data, so a slow reader holds at most
 * one window plus the readable high-water mark.
 */
export class MuxDuplex extends Duplex {
  readonly stream: ByteStream;
  private unconsumed = 0;

  constructor(stream: ByteStream) {
    super({ allowHalfOpen: true });
    this.stream = stream;
    stream.on('data', (chunk) => {
      if (this.push(chunk)) stream.consume(chunk.length);
      else this.unconsumed += chunk.length;
    });
    stream.on('end', () => this.push(null));
    stream.on('close', (err) => {
      if (err) this.destroy(err);
      else if (this.writableFinished || this.writableEnded) return;
    });
  }

  override _read(): void {
    if (this.unconsumed > 0) {
      const n = this.unconsumed;
      this.unconsumed = 0;
      this.stream.consume(n);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.stream.state === 'closed') {
      callback(this.stream.error ?? new Error('stream closed'));
      return;
    }
    if (this.stream.write(chunk)) {
      callback();
      return;
    }
    const onDrain = (): void => {
      this.stream.off('close', onClose);
      callback();
    };
    const onClose = (): void => {
      this.stream.off('drain', onDrain);
      callback(this.stream.error ?? new Error('stream closed'));
    };
    this.stream.once('drain', onDrain);
    this.stream.once('close', onClose);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Report 'finish' only once our FIN has actually gone out. Called back any earlier (while
    // the tail of the data still waits for credit), a Duplex whose readable side has already
    // ended auto-destroys, and _destroy would then reset the stream and drop that tail.
    if (this.stream.state === 'closed') {
      callback(this.stream.error);
      return;
    }
    if (this.stream.state === 'half-closed-local') {
      callback();
      return;
    }
    const onFinish = (): void => {
      this.stream.off('close', onClose);
      callback();
    };
    const onClose = (err: Error | undefined): void => {
      this.stream.off('finish', onFinish);
      callback(err ?? null);
    };
    this.stream.once('finish', onFinish);
    this.stream.once('close', onClose);
    this.stream.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.stream.state !== 'closed') this.stream.reset(WireCode.CANCELLED, error ? error.message : 'stream destroyed');
    callback(error);
  }
}
