export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Entry<T, R> {
  item: T;
  outcome: Settled<R> | undefined;
}

/**
 * Resolves items concurrently and applies them strictly in the order they were pushed: a slow
 * look-up holds back the items behind it on this queue only, never anything else. Used per link
 * for OPENs, so stream ids reach the acceptor in order while store and registry reads overlap.
 */
export class OrderedQueue<T, R> {
  private readonly entries: Entry<T, R>[] = [];
  private readonly resolve: (item: T) => Promise<R>;
  private readonly apply: (item: T, outcome: Settled<R>) => void;
  private closed = false;

  constructor(resolve: (item: T) => Promise<R>, apply: (item: T, outcome: Settled<R>) => void) {
    this.resolve = resolve;
    this.apply = apply;
  }

  get size(): number {
    return this.entries.length;
  }

  push(item: T): void {
    if (this.closed) return;
    const entry: Entry<T, R> = { item, outcome: undefined };
    this.entries.push(entry);
    let promise: Promise<R>;
    try {
      promise = this.resolve(item);
    } catch (error) {
      promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    promise.then(
      (value) => this.settle(entry, { ok: true, value }),
      (error: unknown) => this.settle(entry, { ok: false, error }),
    );
  }

  /** Drops everything queued; later settlements are ignored. */
  close(): void {
    this.closed = true;
    this.entries.length = 0;
  }

  private settle(entry: Entry<T, R>, outcome: Settled<R>): void {
    if (this.closed) return;
    entry.outcome = outcome;
    while (this.entries.length > 0 && this.entries[0].outcome !== undefined) {
      const head = this.entries.shift()!;
      this.apply(head.item, head.outcome!);
      if (this.closed) return;
    }
  }
}
