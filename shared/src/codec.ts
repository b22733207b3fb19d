import { createError, ErrorCode, CloseCode, type TetherError } from './errors.js';
import {
  FLAG_FIN,
  FrameType,
  HEADER_SIZE,
  MAX_OPEN_METADATA_BYTES,
  MAX_REASON_BYTES,
  type Frame,
} from './frame.js';
import { TUNNEL_NAME_PATTERN } from './tunnel-name.js';

const MAX_U32 = 0xffffffff;

/** Limits the decoder enforces before it allocates or hands out anything. */
export interface DecodeLimits {
  /** Largest payload of one frame, in bytes. */
  maxFrameSize: number;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Writes a frame header into `buf` at `offset`. */
export function writeHeader(
  buf: Buffer,
  offset: number,
  type: number,
  flags: number,
  streamId: number,
  length: number,
): void {
  buf[offset] = type;
  buf[offset + 1] = flags;
  buf.writeUInt32BE(streamId, offset + 2);
  buf.writeUInt32BE(length, offset + 6);
}

function frameWith(type: number, flags: number, streamId: number, payloadLength: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE + payloadLength);
  writeHeader(buf, 0, type, flags, streamId, payloadLength);
  return buf;
}

function reasonBytes(message: string): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  // Cut on a character boundary so the far side never sees a broken UTF-8 sequence.
  return bytes.length <= MAX_REASON_BYTES ? bytes : Buffer.from(bytes.subarray(0, MAX_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
}

export function encodeData(streamId: number, payload: Buffer, fin = false): Buffer {
  const buf = frameWith(FrameType.DATA, fin ? FLAG_FIN : 0, streamId, payload.length);
  payload.copy(buf, HEADER_SIZE);
  return buf;
}

export function encodeOpen(streamId: number, window: number, tunnel: string, metadata?: Buffer): Buffer {
  const name = Buffer.from(tunnel, 'ascii');
  const meta = metadata ?? Buffer.alloc(0);
  const buf = frameWith(FrameType.OPEN, 0, streamId, 5 + name.length + meta.length);
  buf.writeUInt32BE(window, HEADER_SIZE);
  buf[HEADER_SIZE + 4] = name.length;
  name.copy(buf, HEADER_SIZE + 5);
  meta.copy(buf, HEADER_SIZE + 5 + name.length);
  return buf;
}

export function encodeOpenOk(streamId: number, window: number): Buffer {
  const buf = frameWith(FrameType.OPEN_OK, 0, streamId, 4);
  buf.writeUInt32BE(window, HEADER_SIZE);
  return buf;
}

function encodeCoded(type: number, streamId: number, code: number, message: string): Buffer {
  const reason = reasonBytes(message);
  const buf = frameWith(type, 0, streamId, 2 + reason.length);
  buf.writeUInt16BE(code, HEADER_SIZE);
  reason.copy(buf, HEADER_SIZE + 2);
  return buf;
}

export function encodeOpenErr(streamId: number, code: number, message: string): Buffer {
  return encodeCoded(FrameType.OPEN_ERR, streamId, code, message);
}

export function encodeReset(streamId: number, code: number, message: string): Buffer {
  return encodeCoded(FrameType.RESET, streamId, code, message);
}

export function encodeWindow(streamId: number, increment: number): Buffer {
  const buf = frameWith(FrameType.WINDOW, 0, streamId, 4);
  buf.writeUInt32BE(increment, HEADER_SIZE);
  return buf;
}

function encodeEightBytes(type: number, data: Buffer): Buffer {
  const buf = frameWith(type, 0, 0, 8);
  const copied = data.copy(buf, HEADER_SIZE, 0, 8);
  // allocUnsafe() memory may hold other data of this process: never let it reach the wire.
  buf.fill(0, HEADER_SIZE + copied);
  return buf;
}

/** PING carries exactly 8 bytes: longer data is cut, shorter data zero-padded. */
export function encodePing(data: Buffer): Buffer {
  return encodeEightBytes(FrameType.PING, data);
}

/** PONG echoes the 8 bytes of a PING (cut or zero-padded like encodePing). */
export function encodePong(data: Buffer): Buffer {
  return encodeEightBytes(FrameType.PONG, data);
}

export function encodeGoAway(lastStreamId: number, code: number, message: string): Buffer {
  const reason = reasonBytes(message);
  const buf = frameWith(FrameType.GOAWAY, 0, 0, 6 + reason.length);
  buf.writeUInt32BE(lastStreamId, HEADER_SIZE);
  buf.writeUInt16BE(code, HEADER_SIZE + 4);
  reason.copy(buf, HEADER_SIZE + 6);
  return buf;
}

export function encodeDatagram(flowId: number, payload: Buffer): Buffer {
  const buf = frameWith(FrameType.DATAGRAM, 0, flowId, payload.length);
  payload.copy(buf, HEADER_SIZE);
  return buf;
}

/** ACK carries a u64 offset (at most 2^53 - 1, so it fits a JavaScript number exactly). */
export function encodeAck(streamId: number, offset: number, fin = false): Buffer {
  if (!Number.isSafeInteger(offset) || offset < 0) throw createError(ErrorCode.INVALID_ARGUMENT, `ACK offset ${offset} is not a safe non-negative integer`);
  const buf = frameWith(FrameType.ACK, fin ? FLAG_FIN : 0, streamId, 8);
  buf.writeUInt32BE(Math.floor(offset / 2 ** 32), HEADER_SIZE);
  buf.writeUInt32BE(offset >>> 0, HEADER_SIZE + 4);
  return buf;
}

/** Encodes any frame object (the inverse of decoding). */
export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case FrameType.DATA: return encodeData(frame.streamId, frame.payload, frame.fin);
    case FrameType.OPEN: return encodeOpen(frame.streamId, frame.window, frame.tunnel, frame.metadata);
    case FrameType.OPEN_OK: return encodeOpenOk(frame.streamId, frame.window);
    case FrameType.OPEN_ERR: return encodeOpenErr(frame.streamId, frame.code, frame.message);
    case FrameType.WINDOW: return encodeWindow(frame.streamId, frame.increment);
    case FrameType.RESET: return encodeReset(frame.streamId, frame.code, frame.message);
    case FrameType.PING: return encodePing(frame.data);
    case FrameType.PONG: return encodePong(frame.data);
    case FrameType.GOAWAY: return encodeGoAway(frame.lastStreamId, frame.code, frame.message);
    case FrameType.DATAGRAM: return encodeDatagram(frame.streamId, frame.payload);
    case FrameType.ACK: return encodeAck(frame.streamId, frame.offset, frame.fin);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

function invalid(message: string): TetherError {
  return createError(ErrorCode.FRAME_INVALID, message, CloseCode.PROTOCOL_ERROR);
}

function decodeReason(buf: Buffer, what: string): string {
  if (buf.length > MAX_REASON_BYTES) throw invalid(`${what} reason longer than ${MAX_REASON_BYTES} bytes`);
  return buf.toString('utf8');
}

/** Decodes the payload of one frame whose header was already checked. */
function decodeBody(type: number, flags: number, streamId: number, payload: Buffer): Frame {
  const needStream = (): void => {
    if (streamId === 0) throw invalid(`frame type ${type} needs a stream id`);
  };
  const needConnection = (): void => {
    if (streamId !== 0) throw invalid(`frame type ${type} must use stream id 0`);
  };
  const exact = (n: number): void => {
    if (payload.length !== n) throw invalid(`frame type ${type} payload must be ${n} bytes, got ${payload.length}`);
  };
  if (type !== FrameType.DATA && type !== FrameType.ACK && flags !== 0) throw invalid(`frame type ${type} has unknown flags ${flags}`);
  switch (type) {
    case FrameType.DATA:
      needStream();
      if ((flags & ~FLAG_FIN) !== 0) throw invalid(`DATA has unknown flags ${flags}`);
      return { type, streamId, fin: (flags & FLAG_FIN) !== 0, payload };
    case FrameType.OPEN: {
      needStream();
      if (payload.length < 5) throw invalid('OPEN payload shorter than 5 bytes');
      const window = payload.readUInt32BE(0);
      const nameLength = payload[4];
      if (payload.length < 5 + nameLength) throw invalid('OPEN tunnel name runs past the frame');
      const tunnel = payload.toString('latin1', 5, 5 + nameLength);
      if (!TUNNEL_NAME_PATTERN.test(tunnel)) throw invalid('OPEN carries an invalid tunnel name');
      const metadata = payload.subarray(5 + nameLength);
      if (metadata.length > MAX_OPEN_METADATA_BYTES) throw invalid('OPEN metadata too large');
      if (window === 0) throw invalid('OPEN window must be positive');
      return { type, streamId, window, tunnel, metadata };
    }
    case FrameType.OPEN_OK: {
      needStream();
      exact(4);
      const window = payload.readUInt32BE(0);
      if (window === 0) throw invalid('OPEN_OK window must be positive');
      return { type, streamId, window };
    }
    case FrameType.OPEN_ERR:
    case FrameType.RESET: {
      needStream();
      if (payload.length < 2) throw invalid(`frame type ${type} payload shorter than 2 bytes`);
      return { type, streamId, code: payload.readUInt16BE(0), message: decodeReason(payload.subarray(2), 'error') };
    }
    case FrameType.WINDOW: {
      needStream();
      exact(4);
      const increment = payload.readUInt32BE(0);
      if (increment === 0) throw invalid('WINDOW increment must be positive');
      return { type, streamId, increment };
    }
    case FrameType.PING:
    case FrameType.PONG:
      needConnection();
      exact(8);
      return { type, streamId: 0, data: payload };
    case FrameType.GOAWAY:
      needConnection();
      if (payload.length < 6) throw invalid('GOAWAY payload shorter than 6 bytes');
      return {
        type,
        streamId: 0,
        lastStreamId: payload.readUInt32BE(0),
        code: payload.readUInt16BE(4),
        message: decodeReason(payload.subarray(6), 'GOAWAY'),
      };
    case FrameType.DATAGRAM:
      needStream();
      return { type, streamId, payload };
    case FrameType.ACK: {
      needStream();
      if ((flags & ~FLAG_FIN) !== 0) throw invalid(`ACK has unknown flags ${flags}`);
      exact(8);
      const high = payload.readUInt32BE(0);
      if (high > 0x1fffff) throw invalid('ACK offset above 2^53 - 1');
      return { type, streamId, fin: (flags & FLAG_FIN) !== 0, offset: high * 2 ** 32 + payload.readUInt32BE(4) };
    }
    default:
      throw createError(ErrorCode.UNKNOWN_FRAME_TYPE, `unknown frame type ${type}`, CloseCode.PROTOCOL_ERROR);
  }
}

/**
 * Decodes every frame in one WebSocket message and hands each to `onFrame`, in order, with the
 * byte range [start, end) the whole frame occupies in `message`.
 * Payloads are views into `message` (no copy). Throws a coded TetherError on the first bad
 * frame; frames before it have already been delivered. Nothing is allocated in proportion to a
 * length field before that length has been checked against `limits` and the message size.
 * Starts at `from`; when `onFrame` returns false it stops after that frame. Returns the offset
 * of the first frame not delivered (`message.length` once all were).
 */
export function decodeFrames(
  message: Buffer,
  limits: DecodeLimits,
  onFrame: (frame: Frame, start: number, end: number) => unknown,
  from = 0,
): number {
  let offset = from;
  if (message.length === 0) throw createError(ErrorCode.FRAME_TRUNCATED, 'empty message', CloseCode.PROTOCOL_ERROR);
  while (offset < message.length) {
    if (message.length - offset < HEADER_SIZE) {
      throw createError(ErrorCode.FRAME_TRUNCATED, `truncated frame header (${message.length - offset} bytes)`, CloseCode.PROTOCOL_ERROR);
    }
    const type = message[offset];
    const flags = message[offset + 1];
    const streamId = message.readUInt32BE(offset + 2);
    const length = message.readUInt32BE(offset + 6);
    if (length > limits.maxFrameSize) {
      throw createError(
        ErrorCode.FRAME_TOO_LARGE,
        `frame payload of ${length} bytes exceeds the limit of ${limits.maxFrameSize}`,
        CloseCode.MESSAGE_TOO_BIG,
      );
    }
    const start = offset + HEADER_SIZE;
    if (length > message.length - start) {
      throw createError(ErrorCode.FRAME_TRUNCATED, `frame payload truncated: ${length} bytes announced, ${message.length - start} present`, CloseCode.PROTOCOL_ERROR);
    }
    // `offset` and `start + length` bound the whole frame, so a router can forward it unchanged.
    const more = onFrame(decodeBody(type, flags, streamId, message.subarray(start, start + length)), offset, start + length);
    offset = start + length;
    // A handler that returns false has had enough for now: the caller resumes from `offset`.
    if (more === false) return offset;
  }
  return offset;
}

/** Reads just the header at `offset` (used by the relay to route without decoding payloads). */
export function peekHeader(message: Buffer, offset = 0): { type: number; flags: number; streamId: number; length: number } {
  return {
    type: message[offset],
    flags: message[offset + 1],
    streamId: message.readUInt32BE(offset + 2),
    length: message.readUInt32BE(offset + 6),
  };
}

export { MAX_U32 };
