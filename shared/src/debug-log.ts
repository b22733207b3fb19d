/**
 * Opt-in trace of the steps of stream moves (resume, reattach) for hunting races. Silent and
 * almost free until a front end installs a sink: the CLI does when TETHER_DEBUG is set.
 */
let sink: ((line: string) => void) | undefined;

/** Sends trace lines to `write`, or turns tracing off with undefined. */
export function setDebugSink(write: ((line: string) => void) | undefined): void {
  sink = write;
}

/** One trace line: `scope message key=value …`, when tracing is on. */
export function debugLog(scope: string, message: string, fields: Record<string, unknown> = {}): void {
  if (!sink) return;
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${v instanceof Error ? JSON.stringify(v.message) : typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  sink(`${scope} ${message}${parts.length > 0 ? ` ${parts.join(' ')}` : ''}`);
}
