import { createError, ErrorCode, isTetherError, type TetherError } from './errors.js';
import { MAX_OPEN_METADATA_BYTES } from './frame.js';
import { decodeHello, encodeHello, type StreamHello } from './resume.js';

/**
 * OPEN metadata (docs/protocol.md, "OPEN metadata"): what the opener tells the far end about a
 * new stream, end to end — the relay forwards it unread. Empty means a plain stream with nothing
 * to say. Otherwise a versioned container of typed entries:
 *
 *   version:u8 (= 1), then entries { type:u16, length:u16, value[length] } up to the end
 *
 * Entries may come in any order. A type this version does not know is skipped, so a newer
 * opener can add one without breaking an older acceptor — unless its critical bit (0x8000) is
 * set: an entry the acceptor must understand (a key exchange that a newer version changes, say)
 * is refused when unknown. A known type twice, type 0, a short header or value, a value that
 * does not parse, or more than MAX_OPEN_METADATA_BYTES in all is refused with FRAME_INVALID —
 * except the trace context (TRACE_PARENT, TRACE_STATE): a value that is not usable is dropped,
 * as W3C Trace Context asks, and never refuses a stream.
 */
export const OPEN_METADATA_VERSION = 1;

/** Entry types. Never renumber; 0 is never assigned. */
export const OpenEntry = {
  /** A resumable stream's NEW or RESUME hello (resume.ts). */
  HELLO: 1,
  /** W3C Trace Context `traceparent` (ASCII), so both ends can join one trace. */
  TRACE_PARENT: 2,
  /** What the stream carries ('ssh', 'http', 'h2'...), a lower-case token, for the far end. */
  PROTOCOL: 3,
  /** Opaque bytes of an end-to-end key exchange (defined, not used yet). */
  KEY_EXCHANGE: 4,
  /** W3C Trace Context `tracestate` (ASCII, at most 512 characters), sent only beside a TRACE_PARENT. */
  TRACE_STATE: 5,
} as const;
/** Set on an entry type the acceptor must understand: unknown, it refuses the OPEN. */
export const OPEN_ENTRY_CRITICAL = 0x8000;

export interface OpenMetadata {
  /** Present on every resumable stream's OPEN. */
  hello?: StreamHello;
  /** `00-<trace-id:32 hex>-<parent-id:16 hex>-<flags:2 hex>` (or a later version's longer form). */
  traceparent?: string;
  /** W3C `tracestate`: up to 32 comma-separated `key=value` members, at most 512 characters. */
  tracestate?: string;
  protocol?: string;
  keyExchange?: Buffer;
}

const HEADER_BYTES = 4;
const KNOWN: ReadonlySet<number> = new Set(Object.values(OpenEntry));
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-[\x21-\x7e]*)?$/;
const PROTOCOL = /^[a-z0-9][a-z0-9.+-]{0,31}$/;
/** The most a tracestate may hold (W3C Trace Context §3.3: 512 characters, 32 members). */
export const MAX_TRACESTATE_CHARS = 512;
const MAX_TRACESTATE_MEMBERS = 32;
const TRACESTATE_MEMBER = /^[a-z0-9][a-z0-9_\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** Why a tracestate is unusable, or undefined. */
function tracestateProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_TRACESTATE_CHARS) return `tracestate of ${value.length} characters (1 to ${MAX_TRACESTATE_CHARS})`;
  const members = value.split(',');
  if (members.length > MAX_TRACESTATE_MEMBERS) return `tracestate of ${members.length} members (at most ${MAX_TRACESTATE_MEMBERS})`;
  if (!members.every((m) => TRACESTATE_MEMBER.test(m.replace(/^[ \t]+|[ \t]+$/g, '')))) return 'not a W3C tracestate';
  return undefined;
}

/** Why a traceparent is unusable (W3C Trace Context §3.2), or undefined. */
function traceparentProblem(value: string): string | undefined {
  const m = TRACEPARENT.exec(value);
  if (!m || value.length > 512) return 'not a W3C traceparent';
  if (m[1] === 'ff') return 'traceparent version ff';
  if (m[1] === '00' && m[4] !== undefined) return 'traceparent version 00 has four fields';
  if (/^0+$/.test(m[2]) || /^0+$/.test(m[3])) return 'traceparent with an all-zero id';
  return undefined;
}

/** The container for `meta`: a coded INVALID_ARGUMENT when a value is unusable or it all is too large. */
export function encodeOpenMetadata(meta: OpenMetadata): Buffer {
  const entries: [number, Buffer][] = [];
  const bad = (why: string): TetherError => createError(ErrorCode.INVALID_ARGUMENT, `OPEN metadata: ${why}`);
  if (meta.hello !== undefined) entries.push([OpenEntry.HELLO, encodeHello(meta.hello)]);
  if (meta.traceparent !== undefined) {
    const problem = traceparentProblem(meta.traceparent);
    if (problem) throw bad(problem);
    entries.push([OpenEntry.TRACE_PARENT, Buffer.from(meta.traceparent, 'latin1')]);
  }
  if (meta.tracestate !== undefined) {
    if (meta.traceparent === undefined) throw bad('a tracestate without a traceparent');
    const problem = tracestateProblem(meta.tracestate);
    if (problem) throw bad(problem);
    entries.push([OpenEntry.TRACE_STATE, Buffer.from(meta.tracestate, 'latin1')]);
  }
  if (meta.protocol !== undefined) {
    if (!PROTOCOL.test(meta.protocol)) throw bad(`protocol ${JSON.stringify(meta.protocol.slice(0, 40))} is not a lower-case token of up to 32 characters`);
    entries.push([OpenEntry.PROTOCOL, Buffer.from(meta.protocol, 'latin1')]);
  }
  if (meta.keyExchange !== undefined) entries.push([OpenEntry.KEY_EXCHANGE, meta.keyExchange]);
  const size = entries.reduce((n, [, value]) => n + HEADER_BYTES + value.length, 1);
  if (size > MAX_OPEN_METADATA_BYTES) throw bad(`${size} bytes is over the limit of ${MAX_OPEN_METADATA_BYTES}`);
  const out = Buffer.allocUnsafe(size);
  out[0] = OPEN_METADATA_VERSION;
  let at = 1;
  for (const [type, value] of entries) {
    out.writeUInt16BE(type, at);
    out.writeUInt16BE(value.length, at + 2);
    value.copy(out, at + HEADER_BYTES);
    at += HEADER_BYTES + value.length;
  }
  return out;
}

/**
 * Reads OPEN metadata; never throws anything but a coded FRAME_INVALID. Values are copies, so
 * they outlive the frame they came in.
 */
export function decodeOpenMetadata(metadata: Buffer): OpenMetadata {
  const meta: OpenMetadata = {};
  if (metadata.length === 0) return meta;
  const bad = (why: string): TetherError => createError(ErrorCode.FRAME_INVALID, `malformed OPEN metadata: ${why}`);
  if (metadata.length > MAX_OPEN_METADATA_BYTES) throw bad(`${metadata.length} bytes is over the limit of ${MAX_OPEN_METADATA_BYTES}`);
  if (metadata[0] !== OPEN_METADATA_VERSION) throw bad(`version ${metadata[0]} (this peer reads ${OPEN_METADATA_VERSION})`);
  const seen = new Set<number>();
  let at = 1;
  while (at < metadata.length) {
    if (metadata.length - at < HEADER_BYTES) throw bad(`entry header cut short at byte ${at}`);
    const type = metadata.readUInt16BE(at);
    const length = metadata.readUInt16BE(at + 2);
    const start = at + HEADER_BYTES;
    if (length > metadata.length - start) throw bad(`entry of type ${type} claims ${length} bytes, ${metadata.length - start} left`);
    const value = metadata.subarray(start, start + length);
    at = start + length;
    if (type === 0) throw bad('entry type 0');
    if (KNOWN.has(type)) {
      if (seen.has(type)) throw bad(`entry type ${type} twice`);
      seen.add(type);
    }
    switch (type) {
      case OpenEntry.HELLO:
        meta.hello = readHello(value, bad);
        break;
      // Trace context is advice: an unusable value is dropped (W3C Trace Context §3.2.2),
      // never a reason to refuse the stream.
      case OpenEntry.TRACE_PARENT: {
        const text = value.toString('latin1');
        if (!traceparentProblem(text)) meta.traceparent = text;
        break;
      }
      case OpenEntry.TRACE_STATE: {
        const text = value.toString('latin1');
        if (!tracestateProblem(text)) meta.tracestate = text;
        break;
      }
      case OpenEntry.PROTOCOL: {
        const text = value.toString('latin1');
        if (!PROTOCOL.test(text)) throw bad('protocol is not a lower-case token of up to 32 characters');
        meta.protocol = text;
        break;
      }
      case OpenEntry.KEY_EXCHANGE:
        meta.keyExchange = Buffer.from(value);
        break;
      default:
        if (type & OPEN_ENTRY_CRITICAL) throw bad(`unknown critical entry type 0x${type.toString(16)}`);
      // Not critical: a newer peer's entry, skipped.
    }
  }
  return dropLoneTracestate(meta);
}

/** The trace context an OPEN carries, as far as it is usable. */
export interface OpenTraceContext {
  traceparent?: string;
  tracestate?: string;
}

/**
 * The trace context in OPEN metadata, for a relay that joins the trace without judging the
 * stream: never throws; metadata that does not parse has none (the acceptor refuses it).
 */
export function readTraceContext(metadata: Buffer): OpenTraceContext {
  if (metadata.length === 0) return {};
  try {
    const { traceparent, tracestate } = decodeOpenMetadata(metadata);
    return traceparent === undefined ? {} : tracestate === undefined ? { traceparent } : { traceparent, tracestate };
  } catch {
    return {};
  }
}

/**
 * `metadata` with its trace context replaced by `context` (none: taken out), every other entry —
 * unknown ones too — kept byte for byte and in order. Metadata that does not parse, or would
 * grow past the limit, is returned as it came: a relay passes on what it cannot read, unchanged,
 * and the acceptor judges it. Never throws.
 */
export function withTraceContext(metadata: Buffer, context: OpenTraceContext): Buffer {
  let trace: [number, Buffer][];
  try {
    if (metadata.length > 0) decodeOpenMetadata(metadata);
    trace = [];
    if (context.traceparent !== undefined && !traceparentProblem(context.traceparent)) {
      trace.push([OpenEntry.TRACE_PARENT, Buffer.from(context.traceparent, 'latin1')]);
      if (context.tracestate !== undefined && !tracestateProblem(context.tracestate)) trace.push([OpenEntry.TRACE_STATE, Buffer.from(context.tracestate, 'latin1')]);
    }
  } catch {
    return metadata;
  }
  const kept: Buffer[] = [];
  for (let at = 1; at < metadata.length;) {
    const type = metadata.readUInt16BE(at);
    const end = at + HEADER_BYTES + metadata.readUInt16BE(at + 2);
    if (type !== OpenEntry.TRACE_PARENT && type !== OpenEntry.TRACE_STATE) kept.push(metadata.subarray(at, end));
    at = end;
  }
  const parts: Buffer[] = [Buffer.from([OPEN_METADATA_VERSION])];
  for (const [type, value] of trace) {
    const head = Buffer.allocUnsafe(HEADER_BYTES);
    head.writeUInt16BE(type, 0);
    head.writeUInt16BE(value.length, 2);
    parts.push(head, value);
  }
  parts.push(...kept);
  const out = Buffer.concat(parts);
  if (out.length === 1) return Buffer.alloc(0);
  return out.length > MAX_OPEN_METADATA_BYTES ? metadata : out;
}

/** A tracestate means nothing without its traceparent: one left alone is dropped. */
function dropLoneTracestate(meta: OpenMetadata): OpenMetadata {
  if (meta.tracestate !== undefined && meta.traceparent === undefined) delete meta.tracestate;
  return meta;
}

function readHello(value: Buffer, bad: (why: string) => TetherError): StreamHello {
  let hello: StreamHello | undefined;
  try {
    hello = decodeHello(value);
  } catch (err) {
    throw bad(isTetherError(err) ? err.message : 'unreadable hello');
  }
  if (!hello) throw bad('the hello entry holds no hello');
  return hello;
}
