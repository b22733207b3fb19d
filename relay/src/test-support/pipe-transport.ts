import type { LinkTransport, LinkTransportHandlers } from '../routing/link-transport.js';

/**
 * Two in-process transports wired to each other, for two routers in one test (a peer link
 * without sockets). A message sent on one end is delivered to the other on the next turn, or
 * when it resumes if it is paused; closing one end closes both.
 */
export class PipeTransport implements LinkTransport {
  other!: PipeTransport;
  private handlers: LinkTransportHandlers | undefined;
  private paused = false;
  private readonly held: Buffer[] = [];
  closed = false;
  /** Messages this end has sent. */
  sent = 0;

  static pair(): [PipeTransport, PipeTransport] {
    const a = new PipeTransport();
    const b = new PipeTransport();
    a.other = b;
    b.other = a;
    return [a, b];
  }

  start(handlers: LinkTransportHandlers): void {
    this.handlers = handlers;
  }

  send(message: Buffer, done: () => void): void {
    if (this.closed) return done();
    this.sent++;
    const copy = Buffer.from(message);
    setImmediate(() => {
      this.other.deliver(copy);
      done();
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    while (!this.paused && this.held.length > 0) this.handlers?.message(this.held.shift()!, true);
  }

  close(code: number, reason: string): void {
    this.end(code, reason);
  }

  terminate(): void {
    this.end(1006, '');
  }

  private deliver(message: Buffer): void {
    if (this.closed) return;
    if (this.paused) this.held.push(message);
    else this.handlers?.message(message, true);
  }

  private end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.other.closed = true;
    setImmediate(() => {
      this.handlers?.close(code, reason);
      this.other.handlers?.close(code, reason);
    });
  }
}
