import type { Context, Span, Tracer } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent, type OpenTraceContext } from '@tether/shared';

type OtelApi = typeof import('@opentelemetry/api');
let loaded: OtelApi | undefined;

/**
 * @opentelemetry/api, loaded with the first span: only a client given a tracer makes spans, and
 * `tether proxy`, which starts once per ssh connection, should not load it for nothing.
 */
function otel(): OtelApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load of a CommonJS dependency
  return (loaded ??= require('@opentelemetry/api') as OtelApi);
}

/**
 * The client's spans of a stream open (docs/tracing.md): `tether.connect.open` on the
 * connector, whose traceparent goes into the OPEN metadata, and `tether.host.accept` on the host,
 * continuing it (through the relay's `tether.open`). Names, codes and the target only: no data.
 * (The relay's span-context.ts does the same two conversions; the core does not import the relay.)
 */
export interface OpenSpan {
  /** The trace context to carry in the OPEN metadata: this span as the parent. */
  readonly carried: OpenTraceContext;
  /** Ends it as opened (or accepted). */
  ok(): void;
  /** Ends it as failed, with the error's code (and the wire code, when there is one). */
  failed(code: string, wireCode?: number): void;
}

function contextFrom(carried: OpenTraceContext): Context {
  const parent = parseTraceparent(carried.traceparent);
  const { createTraceState, ROOT_CONTEXT, trace } = otel();
  if (!parent) return ROOT_CONTEXT;
  const traceState = carried.tracestate ? createTraceState(carried.tracestate) : undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true, traceState });
}

class ClientOpenSpan implements OpenSpan {
  readonly carried: OpenTraceContext;
  private ended = false;

  constructor(private readonly span: Span) {
    const { traceId, spanId, traceFlags, traceState } = span.spanContext();
    const traceparent = formatTraceparent({ traceId, spanId, flags: traceFlags });
    const tracestate = traceState?.serialize();
    this.carried = tracestate ? { traceparent, tracestate } : { traceparent };
  }

  ok(): void {
    this.end('ok');
  }

  failed(code: string, wireCode?: number): void {
    if (this.ended) return;
    this.span.setAttribute('tether.error.code', code);
    if (wireCode !== undefined) this.span.setAttribute('tether.wire_code', wireCode);
    this.span.setStatus({ code: otel().SpanStatusCode.ERROR, message: code });
    this.end('failed');
  }

  private end(outcome: string): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('tether.outcome', outcome);
    this.span.end();
  }
}

/** The connector's span of one open, the root of its trace. */
export function startConnectSpan(tracer: Tracer, tunnel: string, resumable: boolean): OpenSpan {
  const { ROOT_CONTEXT, SpanKind } = otel();
  return new ClientOpenSpan(tracer.startSpan('tether.connect.open', { kind: SpanKind.CLIENT, attributes: { 'tether.tunnel': tunnel, 'tether.resumable': resumable } }, ROOT_CONTEXT));
}

/** The host's span of one incoming open: dialing the target (or resuming a stream) and the answer. */
export function startAcceptSpan(tracer: Tracer, tunnel: string, carried: OpenTraceContext, attributes: Record<string, string | boolean>): OpenSpan {
  return new ClientOpenSpan(tracer.startSpan('tether.host.accept', { kind: otel().SpanKind.SERVER, attributes: { 'tether.tunnel': tunnel, ...attributes } }, contextFrom(carried)));
}
