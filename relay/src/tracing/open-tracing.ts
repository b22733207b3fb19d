import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { readTraceContext, withTraceContext } from '@tether/shared';
import { carriedBy, contextFrom } from './span-context.js';

/** How an OPEN ended, as far as this relay saw it. */
export type OpenOutcome = 'ok' | 'refused' | 'reset' | 'gone';

/** One OPEN's span, from its arrival to its OPEN_OK or OPEN_ERR (or the end of its route). */
export interface OpenTrace {
  /**
   * The OPEN's metadata for the next hop (a host, or another node over a peer link), with this
   * span as the trace parent; `peerNode` names the node when it goes over a peer link.
   */
  carry(metadata: Buffer, peerNode?: string): Buffer;
  /** Ends the span; the first call wins. `code` is the wire code of a refusal or reset. */
  end(outcome: OpenOutcome, code?: number): void;
}

/**
 * Spans of stream opens (docs/tracing.md): `tether.open`, a child of the opener's span taken
 * from the OPEN metadata. Only names, roles and codes go in: no payload, no token, no address.
 */
export class OpenTracing {
  constructor(
    private readonly tracer: Tracer,
    private readonly nodeId: string,
  ) {}

  /** `role`: the opener's link (`connector`, or `peer` for an OPEN carried from another node). */
  start(tunnel: string, role: string, metadata: Buffer): OpenTrace {
    const span = this.tracer.startSpan('tether.open', {
      kind: SpanKind.SERVER,
      attributes: { 'tether.tunnel': tunnel, 'tether.role': role, 'tether.node.id': this.nodeId },
    }, contextFrom(readTraceContext(metadata)));
    return new SpanOpenTrace(span);
  }
}

class SpanOpenTrace implements OpenTrace {
  private ended = false;

  constructor(private readonly span: Span) {}

  carry(metadata: Buffer, peerNode?: string): Buffer {
    this.span.setAttribute('tether.route', peerNode === undefined ? 'local' : 'peer');
    if (peerNode !== undefined) this.span.setAttribute('tether.peer.node.id', peerNode);
    return withTraceContext(metadata, carriedBy(this.span));
  }

  end(outcome: OpenOutcome, code?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('tether.outcome', outcome);
    if (code !== undefined) this.span.setAttribute('tether.wire_code', code);
    if (outcome !== 'ok') this.span.setStatus({ code: SpanStatusCode.ERROR, message: code === undefined ? outcome : `${outcome} (wire code ${code})` });
    this.span.end();
  }
}
