import { pipeline, type Transform } from 'node:stream';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import compressible from 'compressible';
import { entityTags } from './conditional.js';
import { acceptableCodings, type ContentCoding } from './content-coding.js';
import { fieldTokens, fieldValue, hasDirective, withVary } from './header-fields.js';
import type { HeaderFields, IngressRequest, IngressResponse, OriginFetch } from './ingress-types.js';

export interface CompressionOptions {
  /** Bodies whose Content-Length says fewer bytes than this are sent as they are. */
  minBytes?: number;
  /** Brotli quality, 0–11: 4 compresses about as well as gzip 6, several times faster than 11. */
  brotliQuality?: number;
  /** gzip level, 1–9. */
  gzipLevel?: number;
}

export const COMPRESSION_DEFAULTS = { minBytes: 1024, brotliQuality: 4, gzipLevel: 6 } as const;

/** A response from the compression layer, and the coding it applied (undefined: none) or why not. */
export type CompressedResponse = IngressResponse & { encoding: ContentCoding | undefined; skipped?: string };

const SUFFIX: Record<ContentCoding, string> = { br: '-br', gzip: '-gz' };

/**
 * Compresses, per client, responses that the origin sent uncompressed (br or gzip by the
 * client's Accept-Encoding) on their way out of the ingress, streaming through node:zlib. For
 * tunnels that opt in; see docs/http-cache.md for the rules.
 */
export class HttpCompression {
  private readonly options: Required<CompressionOptions>;

  constructor(options: CompressionOptions = {}) {
    this.options = { ...COMPRESSION_DEFAULTS, ...options };
  }

  async serve(request: IngressRequest, fetch: OriginFetch): Promise<CompressedResponse> {
    const response = await fetch(withBaseTags(request));
    const skipped = skipReason(request, response, this.options.minBytes);
    if (skipped !== undefined) {
      const headers = response.status === 304 ? notModifiedTag(request, response.headers) : response.headers;
      return { ...response, headers, encoding: undefined, skipped };
    }
    // From here on the body's bytes depend on Accept-Encoding, whatever this client gets.
    const varied = withVary(response.headers, 'Accept-Encoding');
    const coding = acceptableCodings(request.headers)[0];
    if (coding === undefined) return { ...response, headers: varied, encoding: undefined, skipped: 'not-accepted' };

    const headers: HeaderFields = { ...varied, 'content-encoding': coding };
    // The length, ranges and digest described the uncompressed bytes.
    for (const name of ['content-length', 'accept-ranges', 'content-digest', 'content-md5']) delete headers[name];
    const etag = fieldValue(response.headers, 'etag');
    if (etag !== undefined && /^"[^"]*"$/.test(etag.trim())) headers.etag = `${etag.trim().slice(0, -1)}${SUFFIX[coding]}"`;

    const encoder = this.encoder(coding, response.headers);
    // pipeline destroys both on an error in either: a client that leaves aborts the origin's body.
    pipeline(response.body, encoder, () => undefined);
    return { ...response, headers, body: encoder, encoding: coding };
  }

  private encoder(coding: ContentCoding, headers: HeaderFields): Transform {
    if (coding === 'gzip') return createGzip({ level: this.options.gzipLevel });
    const params: Record<number, number> = { [constants.BROTLI_PARAM_QUALITY]: this.options.brotliQuality };
    const length = Number(fieldValue(headers, 'content-length'));
    if (Number.isSafeInteger(length) && length > 0) params[constants.BROTLI_PARAM_SIZE_HINT] = length;
    if (fieldValue(headers, 'content-type')?.toLowerCase().startsWith('text/')) params[constants.BROTLI_PARAM_MODE] = constants.BROTLI_MODE_TEXT;
    return createBrotliCompress({ params });
  }
}

/** Why a response is passed as it is, or undefined when it is to be compressed. */
export function skipReason(request: IngressRequest, response: IngressResponse, minBytes: number): string | undefined {
  if (request.method.toUpperCase() === 'HEAD') return 'head';
  if (response.status < 200 || response.status === 204 || response.status === 304) return 'no-body';
  if (response.status === 206 || request.headers.range !== undefined) return 'range';
  const encoding = fieldTokens(response.headers, 'content-encoding').filter((c) => c !== 'identity');
  if (encoding.length > 0) return 'encoded';
  if (hasDirective(response.headers, 'no-transform')) return 'no-transform';
  const type = fieldValue(response.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || type === '') return 'no-type';
  // An event stream must reach the client event by event; a compressor would hold them back.
  if (type === 'text/event-stream') return 'event-stream';
  if (compressible(type) !== true) return 'incompressible';
  const length = Number(fieldValue(response.headers, 'content-length'));
  if (Number.isFinite(length) && fieldValue(response.headers, 'content-length') !== undefined && length < minBytes) return 'small';
  return undefined;
}

/** Request tags with our coding suffix taken off, so the cache and the origin recognise them. */
function withBaseTags(request: IngressRequest): IngressRequest {
  const inm = fieldValue(request.headers, 'if-none-match');
  if (inm === undefined) return request;
  const tags = entityTags(inm);
  const base = tags.map((tag) => stripSuffix(tag) ?? tag);
  if (base.every((tag, i) => tag === tags[i])) return request;
  return { ...request, headers: { ...request.headers, 'if-none-match': [...new Set(base)].join(', ') } };
}

function stripSuffix(tag: string): string | undefined {
  for (const suffix of Object.values(SUFFIX)) {
    if (tag.endsWith(`${suffix}"`) && !tag.startsWith('W/')) return `${tag.slice(0, -suffix.length - 1)}"`;
  }
  return undefined;
}

/** A 304 for a tag the client holds with our suffix carries that tag (and Vary) back. */
function notModifiedTag(request: IngressRequest, headers: HeaderFields): HeaderFields {
  const etag = fieldValue(headers, 'etag')?.trim();
  const inm = fieldValue(request.headers, 'if-none-match');
  if (etag === undefined || inm === undefined) return headers;
  const held = entityTags(inm).find((tag) => stripSuffix(tag) === etag);
  return held === undefined ? headers : { ...withVary(headers, 'Accept-Encoding'), etag: held };
}
