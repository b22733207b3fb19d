import { createWriteStream, type WriteStream } from 'node:fs';
import type { AuditEvent, AuditSink } from '../ports/audit-sink.js';

/**
 * Appends one JSON object per line to a file (mode 0600). Writes are queued by the stream, so
 * record() never blocks the event loop; a write error is reported once through `onError` and
 * later events are dropped rather than crashing the relay.
 */
export class JsonLinesAuditSink implements AuditSink {
  private readonly out: WriteStream;
  private failed = false;

  constructor(file: string, onError: (err: Error) => void) {
    this.out = createWriteStream(file, { flags: 'a', mode: 0o600 });
    this.out.on('error', (err) => {
      if (this.failed) return;
      this.failed = true;
      onError(err);
    });
  }

  record(event: AuditEvent): void {
    if (this.failed || this.out.destroyed) return;
    this.out.write(`${JSON.stringify(event)}\n`);
  }

  flush(): Promise<void> {
    if (this.failed || this.out.destroyed || this.out.writableEnded) return Promise.resolve();
    // Writes complete in order: the callback of an empty write runs once all before it are out.
    return new Promise((resolve) => this.out.write('', () => resolve()));
  }

  close(): Promise<void> {
    if (this.out.destroyed || this.out.writableEnded) return Promise.resolve();
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
