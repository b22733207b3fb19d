import type { EventEmitter } from 'node:events';
import type { MuxStreamEvents } from './stream.js';

/**
 * Hands received chunks (and the end, as null) to a stream's 'data'/'end' listeners, holding
 * them while nobody listens for 'data': the opener of a stream attaches its reader a turn after
 * the open, and the first bytes (sshd's banner) often come in the same batch as the open.
 * What is held is bounded by the stream's window, since no credit returns until it is consumed.
 */
export class HeldDelivery {
  private held: (Buffer | null)[] = [];
  private readonly stream: EventEmitter<MuxStreamEvents>;

  constructor(stream: EventEmitter<MuxStreamEvents>) {
    this.stream = stream;
    stream.on('newListener', (event: string | symbol) => {
      if (event === 'data' && this.held.length > 0) queueMicrotask(() => this.release());
    });
  }

  /** Emits a chunk (or the end, for null), or holds it while nobody listens for data. */
  deliver(chunk: Buffer | null): void {
    if (this.held.length > 0 || this.stream.listenerCount('data') === 0) {
      this.held.push(chunk);
      return;
    }
    if (chunk) this.stream.emit('data', chunk);
    else this.stream.emit('end');
  }

  private release(): void {
    while (this.held.length > 0 && this.stream.listenerCount('data') > 0) {
      const chunk = this.held.shift()!;
      if (chunk) this.stream.emit('data', chunk);
      else this.stream.emit('end');
    }
  }
}
