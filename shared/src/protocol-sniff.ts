/**
 * What the first bytes of a TCP stream (opener to host) say it speaks: an SSH identification
 * line, a TLS ClientHello (with its SNI and ALPN list), an HTTP/1.x request line (its method
 * only: no path, no headers), the HTTP/2 client preface, or none of them. docs/protocols.md.
 *
 * Pure and bounded: it keeps at most `bound` bytes, decides as soon as the bytes allow (and at
 * the bound at the latest), never throws on any input, and once decided costs nothing more.
 */
import type { SniffedProtocol } from './tunnel-settings.js';

/** What a stream was found to speak, with the few fields worth recording. */
export interface SniffResult {
  protocol: SniffedProtocol;
  /** TLS: the server name the client asked for (lower case; absent when none or not a host name). */
  sni?: string;
  /** TLS: the application protocols the client offered, in its order (`h2`, `http/1.1`, …). */
  alpn?: string[];
  /** SSH: the client's software version and comments (`OpenSSH_9.2p1 Debian-2+deb12u3`). */
  sshVersion?: string;
  /** HTTP/1.x: the request method (`GET`). */
  method?: string;
}

/** Bytes looked at before a stream that matched nothing yet is called `unknown`. */
export const DEFAULT_SNIFF_BOUND = 16 * 1024;

/** RFC 4253 §4.2: the identification line is at most 255 bytes, CR LF included. */
const SSH_LINE_MAX = 255;
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SSH_PREFIXES = [Buffer.from('SSH-2.0-', 'latin1'), Buffer.from('SSH-1.99-', 'latin1')];
const METHOD_MAX = 24;
/** Below this many bytes every chunk is looked at with all before it. */
const EAGER_BYTES = 2048;
const ALPN_MAX_ENTRIES = 16;
const TLS_RECORD_HEADER = 5;
const TLS_HANDSHAKE = 0x16;
const TLS_CLIENT_HELLO = 0x01;
/** A plaintext TLS record carries at most 2^14 bytes (RFC 8446 §5.1). */
const TLS_MAX_RECORD = 16384;

/** A candidate's answer for the bytes so far: not this one, not yet, or this. */
type Verdict = 'no' | 'more' | SniffResult;

/** Bytes `b` begin like `prefix` (as far as either goes). */
function startsLike(b: Buffer, prefix: Buffer): boolean {
  const n = Math.min(b.length, prefix.length);
  for (let i = 0; i < n; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/** Printable ASCII without the space. */
const visible = (c: number): boolean => c > 0x20 && c < 0x7f;

/** A string of printable ASCII (space allowed) from `b`, or undefined when it holds anything else. */
function printable(b: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) if (b[i] < 0x20 || b[i] > 0x7e) return undefined;
  return b.toString('latin1', start, end);
}

function ssh(b: Buffer, bound: number): Verdict {
  const prefix = SSH_PREFIXES.find((p) => startsLike(b, p));
  if (!prefix) return 'no';
  if (b.length < prefix.length) return 'more';
  const limit = Math.min(b.length, SSH_LINE_MAX, bound);
  let end = -1;
  for (let i = prefix.length; i < limit; i++) {
    if (b[i] === 0x0a) {
      end = i > prefix.length && b[i - 1] === 0x0d ? i - 1 : i;
      break;
    }
  }
  // No line end within the longest line allowed: SSH all the same, its version cut there.
  if (end < 0 && limit < SSH_LINE_MAX && limit < bound) return 'more';
  if (end < 0) end = limit;
  const version = printable(b, prefix.length, end);
  return version ? { protocol: 'ssh', sshVersion: version } : { protocol: 'ssh' };
}

function h2(b: Buffer): Verdict {
  if (!startsLike(b, H2_PREFACE)) return 'no';
  return b.length >= H2_PREFACE.length ? { protocol: 'h2' } : 'more';
}

const HTTP1_VERSION = Buffer.from(' HTTP/1.', 'latin1');

/** `METHOD SP target SP HTTP/1.x CRLF` (a bare LF accepted, as servers do). */
function http1(b: Buffer): Verdict {
  let i = 0;
  for (; i < b.length && i <= METHOD_MAX; i++) {
    const c = b[i];
    if (c === 0x20) break;
    // Methods are tokens; every registered one is upper case letters and `-`/`_`.
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return 'no';
  }
  if (i === b.length) return 'more';
  if (i === 0 || i > METHOD_MAX) return 'no';
  const methodEnd = i;
  i++;
  const targetStart = i;
  for (; i < b.length; i++) {
    if (b[i] === 0x20) break;
    if (!visible(b[i])) return 'no';
  }
  if (i === b.length) return 'more';
  if (i === targetStart) return 'no';
  // ` HTTP/1.x` then CR LF.
  const rest = b.subarray(i);
  if (!startsLike(rest, HTTP1_VERSION)) return 'no';
  if (rest.length <= HTTP1_VERSION.length) return 'more';
  const minor = rest[HTTP1_VERSION.length];
  if (minor < 0x30 || minor > 0x39) return 'no';
  const after = rest.subarray(HTTP1_VERSION.length + 1);
  if (after.length === 0) return 'more';
  if (after[0] === 0x0a) return { protocol: 'http1', method: b.toString('latin1', 0, methodEnd) };
  if (after[0] !== 0x0d) return 'no';
  if (after.length === 1) return 'more';
  return after[1] === 0x0a ? { protocol: 'http1', method: b.toString('latin1', 0, methodEnd) } : 'no';
}

/** A host name as SNI should carry one (RFC 6066: no trailing dot, no IP literal check needed here). */
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * TLS: handshake records carrying a ClientHello, which may span records. Decides `tls` as soon
 * as the ClientHello is whole (with its SNI and ALPN), or when it can no longer be read whole
 * within the bound (then without them).
 */
function tls(b: Buffer, bound: number): Verdict {
  if (b.length >= 1 && b[0] !== TLS_HANDSHAKE) return 'no';
  if (b.length >= 2 && b[1] !== 0x03) return 'no';
  if (b.length >= 3 && b[2] > 0x04) return 'no';
  if (b.length < TLS_RECORD_HEADER + 1) return 'more';
  const first = b.readUInt16BE(3);
  if (first === 0 || first > TLS_MAX_RECORD) return 'no';
  if (b[TLS_RECORD_HEADER] !== TLS_CLIENT_HELLO) return 'no';
  // Gather the handshake bytes of consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let at = 0;
  while (at + TLS_RECORD_HEADER <= b.length) {
    if (b[at] !== TLS_HANDSHAKE || b[at + 1] !== 0x03) return { protocol: 'tls' };
    const length = b.readUInt16BE(at + 3);
    if (length === 0 || length > TLS_MAX_RECORD) return { protocol: 'tls' };
    const body = b.subarray(at + TLS_RECORD_HEADER, Math.min(b.length, at + TLS_RECORD_HEADER + length));
    parts.push(body);
    have += body.length;
    if (need < 0 && have >= 4) {
      const head = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      need = 4 + head.readUIntBE(1, 3);
      // Too large to be read whole within the bound: TLS all the same.
      if (need + TLS_RECORD_HEADER > bound) return { protocol: 'tls' };
    }
    if (need >= 0 && have >= need) {
      const hello = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      return clientHello(hello.subarray(4, need));
    }
    if (body.length < length) break;
    at += TLS_RECORD_HEADER + length;
  }
  return b.length >= bound ? { protocol: 'tls' } : 'more';
}

/** The fields of a whole ClientHello body (RFC 8446 §4.1.2); a malformed one is TLS without them. */
function clientHello(h: Buffer): SniffResult {
  const result: SniffResult = { protocol: 'tls' };
  // legacy_version, random
  let at = 2 + 32;
  if (at + 1 > h.length) return result;
  at += 1 + h[at]; // legacy_session_id
  if (at + 2 > h.length) return result;
  at += 2 + h.readUInt16BE(at); // cipher_suites
  if (at + 1 > h.length) return result;
  at += 1 + h[at]; // legacy_compression_methods
  if (at + 2 > h.length) return result;
  const end = Math.min(h.length, at + 2 + h.readUInt16BE(at));
  at += 2;
  while (at + 4 <= end) {
    const type = h.readUInt16BE(at);
    const length = h.readUInt16BE(at + 2);
    const data = h.subarray(at + 4, Math.min(end, at + 4 + length));
    at += 4 + length;
    if (data.length < length) break;
    if (type === 0) {
      const sni = serverName(data);
      if (sni) result.sni = sni;
    } else if (type === 16) {
      const alpn = alpnList(data);
      if (alpn.length > 0) result.alpn = alpn;
    }
  }
  return result;
}

/** The host_name entry of a server_name extension (RFC 6066 §3). */
function serverName(d: Buffer): string | undefined {
  if (d.length < 2) return undefined;
  const end = Math.min(d.length, 2 + d.readUInt16BE(0));
  let at = 2;
  while (at + 3 <= end) {
    const kind = d[at];
    const length = d.readUInt16BE(at + 1);
    const nameEnd = at + 3 + length;
    if (nameEnd > end) return undefined;
    if (kind === 0 && length > 0 && length <= 253) {
      const name = printable(d, at + 3, nameEnd)?.toLowerCase();
      return name !== undefined && HOST_NAME.test(name) ? name : undefined;
    }
    at = nameEnd;
  }
  return undefined;
}

/** The protocol names of an ALPN extension (RFC 7301 §3.1), printable ones only. */
function alpnList(d: Buffer): string[] {
  const names: string[] = [];
  if (d.length < 2) return names;
  const end = Math.min(d.length, 2 + d.readUInt16BE(0));
  let at = 2;
  while (at + 1 <= end && names.length < ALPN_MAX_ENTRIES) {
    const length = d[at];
    if (length === 0 || at + 1 + length > end) break;
    const name = printable(d, at + 1, at + 1 + length);
    if (name !== undefined && length <= 32) names.push(name);
    at += 1 + length;
  }
  return names;
}

/**
 * An incremental classifier of one stream's opener-to-host bytes. Feed each chunk with `push`;
 * the result comes once decided and stays. Until then the bytes seen are kept (at most `bound`),
 * so a gate holding the stream can send them on (`held`).
 */
export class ProtocolSniffer {
  private buf: Buffer | undefined;
  private length = 0;
  private decided: SniffResult | undefined;
  /** How many kept bytes the last look covered. */
  private checked = 0;
  /** Bytes pushed before the decision (counting past the bound). */
  seen = 0;

  constructor(private readonly bound = DEFAULT_SNIFF_BOUND) {}

  /** The decision, once made. */
  get result(): SniffResult | undefined {
    return this.decided;
  }

  /** The first bytes of the stream kept so far (a view, valid until the next push). */
  get held(): Buffer {
    return this.buf ? this.buf.subarray(0, this.length) : Buffer.alloc(0);
  }

  /** Feeds the next chunk; returns the decision once there is one. */
  push(chunk: Uint8Array): SniffResult | undefined {
    if (this.decided || chunk.length === 0) return this.decided;
    this.seen += chunk.length;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.length === 0) {
      // The usual case: the first chunk decides, and nothing is copied.
      const view = bytes.length > this.bound ? bytes.subarray(0, this.bound) : bytes;
      const verdict = classify(view, this.bound, bytes.length >= this.bound);
      if (verdict) return (this.decided = verdict);
    }
    const first = this.length === 0;
    this.append(bytes);
    const full = this.length >= this.bound;
    if (first && !full) {
      this.checked = this.length;
      return undefined;
    }
    if (!full && !this.worthChecking(bytes)) return undefined;
    this.checked = this.length;
    const verdict = classify(this.held, this.bound, full);
    if (verdict) this.decided = verdict;
    return this.decided;
  }

  /**
   * Whether the kept bytes may decide now. Looking at all of them again for each tiny chunk
   * would cost the square of the bound, so a long undecided prefix is looked at again only when
   * a line may have ended, a TLS record may be whole, or it has doubled since the last look.
   */
  private worthChecking(chunk: Buffer): boolean {
    return this.length <= EAGER_BYTES || this.buf![0] === TLS_HANDSHAKE || chunk.includes(0x0a) || this.length >= 2 * this.checked;
  }

  /** The stream's opener ended (FIN) or the stream is gone: what was seen is all there is. */
  finish(): SniffResult {
    this.decided ??= (this.length > 0 ? classify(this.held, this.bound, true) : undefined) ?? { protocol: 'unknown' };
    return this.decided;
  }

  private append(bytes: Buffer): void {
    const take = Math.min(bytes.length, this.bound - this.length);
    if (take <= 0) return;
    const size = this.length + take;
    if (!this.buf || this.buf.length < size) {
      const grown = Buffer.allocUnsafe(Math.min(this.bound, Math.max(size, 2 * (this.buf?.length ?? 256))));
      if (this.buf) this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    bytes.copy(this.buf, this.length, 0, take);
    this.length = size;
  }
}

/**
 * The decision for the first bytes `b`, or undefined when more are needed. `full`: no more
 * bytes will be looked at, so a candidate still waiting loses.
 */
function classify(b: Buffer, bound: number, full: boolean): SniffResult | undefined {
  let waiting = false;
  for (const verdict of [ssh(b, bound), tls(b, bound), h2(b), http1(b)]) {
    if (verdict === 'more') waiting = true;
    else if (verdict !== 'no') return verdict;
  }
  return waiting && !full ? undefined : { protocol: 'unknown' };
}

/** Classifies a whole first flight at once (tests, tools). */
export function sniffProtocol(bytes: Uint8Array, bound = DEFAULT_SNIFF_BOUND): SniffResult {
  const sniffer = new ProtocolSniffer(bound);
  return sniffer.push(bytes) ?? sniffer.finish();
}

const NAMES: Readonly<Record<SniffedProtocol, string>> = { ssh: 'SSH', tls: 'TLS', http1: 'HTTP/1.x', h2: 'HTTP/2', unknown: 'no protocol the relay recognises' };

/** For people: `TLS (SNI example.com)`, `HTTP/1.x (GET)`, `SSH (OpenSSH_9.2p1)`, `HTTP/2`. */
export function describeSniff(r: SniffResult): string {
  const name = NAMES[r.protocol];
  if (r.protocol === 'tls' && r.sni) return `${name} (SNI ${r.sni})`;
  if (r.protocol === 'http1' && r.method) return `${name} (${r.method})`;
  if (r.protocol === 'ssh' && r.sshVersion) return `${name} (${r.sshVersion.split(' ')[0]})`;
  return name;
}
