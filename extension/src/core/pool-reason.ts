/**
 * Why a relay pool sends new streams where it does (PoolState.reason). A value, not text: the
 * CLI, the VS Code layer and the pool itself switch on `kind`; `describePoolReason` is the one
 * place that turns it into the words people see.
 */
export type PoolReason =
  /** The best endpoint there is (or the best that ever came up). */
  | { kind: 'preferred' }
  /**
   * A better endpoint is unusable: `from` lost its session, is draining after a GOAWAY, or is
   * down (never came up); `code` is its last error (undefined when it closed without one).
   */
  | { kind: 'failover'; from: string; how: 'lost' | 'draining' | 'down'; code: string | undefined }
  /** Back on a better endpoint after a failover, once it stayed up long enough to be trusted. */
  | { kind: 'failback' }
  /** No endpoint is up. */
  | { kind: 'no-relay' };

export const NO_RELAY: PoolReason = { kind: 'no-relay' };
export const PREFERRED: PoolReason = { kind: 'preferred' };
export const FAILBACK: PoolReason = { kind: 'failback' };

/**
 * The reason as people read it: 'preferred', 'failover: <url> lost|draining|down (<code>)',
 * 'failback' or 'no relay'. `showUrl` shortens the URL (the status bar leaves out the scheme).
 */
export function describePoolReason(reason: PoolReason, showUrl: (url: string) => string = (url) => url): string {
  switch (reason.kind) {
    case 'preferred':
      return 'preferred';
    case 'failback':
      return 'failback';
    case 'no-relay':
      return 'no relay';
    case 'failover':
      return `failover: ${showUrl(reason.from)} ${reason.how} (${reason.code ?? 'closed'})`;
  }
}

/** True when both say the same thing. */
export function samePoolReason(a: PoolReason, b: PoolReason): boolean {
  return describePoolReason(a) === describePoolReason(b);
}
