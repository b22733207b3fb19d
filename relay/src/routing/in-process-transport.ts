import { CloseCode, createError, ErrorCode, MuxSession, type SessionOptions } from '@tether/shared';
import type { LinkTransport, LinkTransportHandlers } from './link-transport.js';

/** Bytes the session may have waiting for the router before its streams are asked to wait. */
const HIGH_WATER_MARK = 4 * 1024 * 1024;

/**
 * A link that lives inside the relay: a client MuxSession on one side (the HTTP ingress opens
 * streams on it as a connector would) and the router's LinkTransport on the other. Messages
 * cross on the next turn of the event loop, never re-entering the sender; the session is told to
 * wait when the router has not taken what it sent (or paused the link), like a congested socket.
 */
export class InProcessTransport implements LinkTransport {
  readonly session: MuxSession;
  private handlers: LinkTransportHandlers | undefined;
  private readonly toRouter: Buffer[] = [];
  private toRouterBytes = 0;
  private paused = false;
  private scheduled = false;
  private ended = false;

  constructor(options: Partial<Omit<SessionOptions, 'send' | 'role'>> = {}) {
    this.session = new MuxSession({ ...options, role: 'client', send: (message) => this.fromSession(message) });
    // The session's owner closed it (idle, shutting down): the router forgets the link.
    this.session.on('close', () => this.end(CloseCode.NORMAL, 'in-process session closed'));
  }

  start(handlers: LinkTransportHandlers): void {
    this.handlers = handlers;
    this.schedule();
  }

  send(message: Buffer, done: () => void): void {
    if (!this.ended) this.session.receive(message);
    done();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  close(code: number, reason: string): void {
    this.session.destroy(createError(ErrorCode.CONNECTION_LOST, `the relay closed the link (${reason})`, code));
    this.end(code, reason);
  }

  terminate(): void {
    this.close(CloseCode.GOING_AWAY, 'terminated');
  }

  private fromSession(message: Buffer): boolean {
    if (this.ended) return false;
    this.toRouter.push(message);
    this.toRouterBytes += message.length;
    this.schedule();
    return this.toRouterBytes < HIGH_WATER_MARK;
  }

  private schedule(): void {
    if (this.scheduled || this.paused || !this.handlers || this.toRouter.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    const handlers = this.handlers;
    while (!this.paused && !this.ended && handlers && this.toRouter.length > 0) {
      const message = this.toRouter.shift()!;
      this.toRouterBytes -= message.length;
      handlers.message(message, true);
    }
    if (this.toRouterBytes < HIGH_WATER_MARK / 2) this.session.transportDrained();
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.toRouter.length = 0;
    this.toRouterBytes = 0;
    this.handlers?.close(code, reason);
  }
}
