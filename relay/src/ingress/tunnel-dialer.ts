import { createError, ErrorCode, streamOpened } from '@tether/shared';
import type { Identity } from '../identity.js';
import { InProcessTransport } from '../routing/in-process-transport.js';
import type { Router } from '../routing/router.js';
import { TunnelSocket } from './tunnel-socket.js';

interface Entry {
  transport: InProcessTransport;
  idleTimer?: NodeJS.Timeout;
}

/** How long an in-process link with no stream is kept for the next request. */
const IDLE_MS = 60_000;

/**
 * Opens streams to tunnels from inside the relay, as `identity`: one in-process connector link
 * per identity (its opens are authorized, rate-limited, audited and traced by the router like
 * any connector's), made on first use and closed after a minute without streams.
 */
export class TunnelDialer {
  private readonly links = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly router: Router, private readonly idleMs = IDLE_MS) {}

  /** Resolves the stream once the host accepted it; rejects with the coded refusal otherwise. */
  async open(identity: Identity, tunnel: string): Promise<TunnelSocket> {
    if (this.closed) throw createError(ErrorCode.GOING_AWAY, 'the relay is shutting down');
    const entry = this.linkFor(identity);
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    const stream = entry.transport.session.openStream(tunnel);
    stream.once('close', () => this.maybeIdle(identity));
    await streamOpened(stream);
    return new TunnelSocket(stream);
  }

  /** Links open now (one per identity in use). */
  get size(): number {
    return this.links.size;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.links.values()) {
      clearTimeout(entry.idleTimer);
      entry.transport.session.destroy();
    }
    this.links.clear();
  }

  private key(identity: Identity): string {
    return identity.visitor ? `visitor\0${identity.visitor.tunnel}\0${identity.visitor.access}` : `user\0${identity.id}`;
  }

  private linkFor(identity: Identity): Entry {
    const key = this.key(identity);
    const found = this.links.get(key);
    if (found && !found.transport.session.closed) return found;
    const transport = new InProcessTransport();
    const entry: Entry = { transport };
    this.links.set(key, entry);
    transport.session.on('close', () => {
      clearTimeout(entry.idleTimer);
      if (this.links.get(key) === entry) this.links.delete(key);
    });
    this.router.attach(transport, 'connector', identity, undefined, 'http-ingress');
    return entry;
  }

  private maybeIdle(identity: Identity): void {
    const key = this.key(identity);
    const entry = this.links.get(key);
    if (!entry || entry.transport.session.streamCount > 0 || entry.idleTimer) return;
    entry.idleTimer = setTimeout(() => {
      if (entry.transport.session.streamCount === 0) entry.transport.session.destroy();
    }, this.idleMs);
    entry.idleTimer.unref();
  }
}

