import type { Readable } from 'node:stream';

/** Header fields with lower-case names, as Node's http and http2 modules hand them out. */
export type HeaderFields = Record<string, string | string[] | undefined>;

/**
 * A request of the HTTP ingress as the layers between the client and the origin see it (cache,
 * compression): hop-by-hop fields are gone already, and pseudo-headers (`:path`…) are not fields.
 */
export interface IngressRequest {
  method: string;
  /** Path and query, as sent (`/a/b?c=d`). */
  path: string;
  headers: HeaderFields;
  /** The request body; absent when there is none (GET, HEAD). */
  body?: Readable;
}

/** A response on its way to the client: status, end-to-end fields, a streaming body. */
export interface IngressResponse {
  status: number;
  headers: HeaderFields;
  /** Streams the body (empty for HEAD, 204, 304); destroying it aborts the origin's response. */
  body: Readable;
  /** Trailer fields, once the body has ended (gRPC status); absent when the origin sent none. */
  trailers?: () => HeaderFields | undefined;
  /**
   * The origin's answer ended with its header section (an h2 HEADERS frame with END_STREAM): no
   * body, no trailers. gRPC's "trailers-only" form, in which a failed call's status travels.
   */
  endedAtHeaders?: boolean;
}

/** What the next layer down does with a request: in the end, asks the origin through the tunnel. */
export type OriginFetch = (request: IngressRequest) => Promise<IngressResponse>;
