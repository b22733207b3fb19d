/**
 * W3C Trace Context `traceparent` as data (https://www.w3.org/TR/trace-context/#traceparent-header),
 * so the relay and the clients read and write it without a tracing library in `shared/`.
 */
export interface TraceParent {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero: the span the next hop is a child of. */
  spanId: string;
  /** Trace flags; bit 0 is "sampled". */
  flags: number;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const LATER = /^(?!ff)[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-[\x21-\x7e]*)?$/;
const ZERO = /^0+$/;

/** The traceparent's fields, or undefined when it is not one this reader can use (never throws). */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined || value.length > 512) return undefined;
  const m = VERSION_00.exec(value) ?? (value.startsWith('00-') ? null : LATER.exec(value));
  if (!m || ZERO.test(m[1]) || ZERO.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], flags: parseInt(m[3], 16) };
}

/** The version 00 traceparent of a span. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${(parent.flags & 0xff).toString(16).padStart(2, '0')}`;
}
