/**
 * Watches the access requests the signed-in user may review, so that each new pending one is
 * announced once: polled at start (sign-in) and then every `intervalMs`. No 'vscode' here: the
 * extension shows the announcements, a unit test drives it with mocked timers.
 */
import { describeMs } from './duration-text.js';
import type { AccessRequestInfo } from './sharing-types.js';

export interface RequestWatchOptions {
  /** GET /v1/requests?pending=true: the caller's own pending requests and those it may review. */
  list: () => Promise<AccessRequestInfo[]>;
  /** The signed-in user: its own requests, and those it reviewed already, are not news to it. */
  user: string;
  /** Called once per new pending request (in the order the relay lists them, oldest first). */
  onRequest: (request: AccessRequestInfo) => void;
  /** Called on the first failure of a run of failures (not on every poll while the relay is down). */
  onError?: (err: unknown) => void;
  intervalMs?: number;
}

export const REQUEST_POLL_MS = 30_000;

/** Polls for pending access requests and announces each new one once; remembers ids in memory. */
export class RequestWatcher {
  private readonly announced = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private failing = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: RequestWatchOptions) {}

  /** Polls now, then every interval until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Polls once now (a refresh after a review, say); resolves when the answer is handled. */
  poll(): Promise<void> {
    this.inFlight ??= this.once().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Whether `id` was announced already (a review from the panel does not make it news again). */
  has(id: string): boolean {
    return this.announced.has(id);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      await this.poll();
    } finally {
      this.running = false;
      // The next poll is counted from the end of this one: a slow relay never gets two at once.
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.tick(), this.options.intervalMs ?? REQUEST_POLL_MS);
        this.timer.unref?.();
      }
    }
  }

  private async once(): Promise<void> {
    let requests: AccessRequestInfo[];
    try {
      requests = await this.options.list();
    } catch (err) {
      if (!this.failing) this.options.onError?.(err);
      this.failing = true;
      return;
    }
    this.failing = false;
    const fresh = requests
      .filter((r) => r.status === 'pending' && r.user !== this.options.user && !r.reviews.some((v) => v.reviewer === this.options.user) && !this.announced.has(r.id))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const request of fresh) {
      this.announced.add(request.id);
      this.options.onRequest(request);
    }
  }
}

/** "mia asks for connect on web for 8h: REASON" (the reason only when given). */
export function describePendingRequest(request: AccessRequestInfo): string {
  const reason = request.reason.trim();
  return `${request.user} asks for ${request.role} on ${request.tunnel} for ${describeMs(request.durationMs)}${reason ? `: ${reason}` : ''}`;
}
