import type { EventEmitter } from 'node:events';
import type { TetherError } from './errors.js';
import type { MuxStreamEvents, StreamState } from './stream.js';

/**
 * What the bridges, the Duplex adapter and the UI need from a stream of bytes, whichever kind
 * carries it: a MuxStream (one path) or a ResumableStream (outlives its path). `write()` returns
 * false when the caller should wait for 'drain'; received data ('data') is acknowledged with
 * `consume(n)` once passed on; 'close' carries the coded error, if the stream did not end cleanly.
 */
export interface ByteStream extends EventEmitter<MuxStreamEvents> {
  readonly state: StreamState;
  /** Error that closed the stream, if it did not close cleanly. */
  readonly error: TetherError | undefined;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  write(chunk: Buffer): boolean;
  /** Half-closes our direction; 'finish' once the far end has it (or it went out, for a MuxStream). */
  end(): void;
  reset(code?: number, message?: string): void;
  consume(n: number): void;
}
