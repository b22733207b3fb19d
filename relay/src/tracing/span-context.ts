import { createTraceState, ROOT_CONTEXT, trace, type Context, type Span } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent, type OpenTraceContext } from '@tether/shared';

/** The context a W3C traceparent (and tracestate) names, as a remote parent; none: a new trace. */
export function contextFrom(carried: OpenTraceContext | undefined): Context {
  const parent = parseTraceparent(carried?.traceparent);
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.flags,
    isRemote: true,
    traceState: carried?.tracestate ? createTraceState(carried.tracestate) : undefined,
  });
}

/** `span` as the trace context to hand to the next hop. */
export function carriedBy(span: Span): OpenTraceContext {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const traceparent = formatTraceparent({ traceId, spanId, flags: traceFlags });
  const tracestate = traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
