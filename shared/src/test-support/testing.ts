/**
 * Builders and harnesses for the protocol's unit and fuzz tests. Not exported from the package
 * index: production code has no use for them. (Named `testing.ts`, not `test-*.ts`, so that
 * `node --test` does not mistake it for a test file.)
 */
import { createHash } from 'node:crypto';
import { decodeFrames, writeHeader } from '../codec.js';
import { FrameType, FrameTypeName, HEADER_SIZE, type Frame } from '../frame.js';
import { MuxSession, type SessionOptions } from '../session.js';
import type { ByteStream } from '../byte-stream.js';
import type { FramePool } from '../frame-pool.js';
import type { MuxStream } from '../stream.js';

/** A small, fast, seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform u32. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const buf = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) buf.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) buf[i] = this.u32() & 0xff;
    return buf;
  }
}

/** Builds one frame byte by byte, bypassing the encoders' conventions (for malformed input). */
export function rawFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE + payload.length);
  writeHeader(buf, 0, type, flags, streamId, payload.length);
  payload.copy(buf, HEADER_SIZE);
  return buf;
}

/** Payload of an OPEN frame: u32 window, u8 name length, name, metadata. */
export function openPayload(window: number, tunnel: string | Buffer, metadata: Buffer = Buffer.alloc(0)): Buffer {
  const name = typeof tunnel === 'string' ? Buffer.from(tunnel, 'latin1') : tunnel;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(window, 0);
  head[4] = name.length;
  return Buffer.concat([head, name, metadata]);
}

/** A u32 as 4 big-endian bytes. */
export function u32(n: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(n, 0);
  return buf;
}

/** Decodes every frame in `message` into an array (throws like decodeFrames). */
export function decodeAll(message: Buffer, maxFrameSize = 16 * 1024 * 1024): Frame[] {
  const frames: Frame[] = [];
  decodeFrames(message, { maxFrameSize }, (frame) => frames.push(frame));
  return frames;
}

/**
 * A session driven by hand: the test feeds raw messages with `receive()` and reads back every
 * frame the session sent from `sent`. `accepting` decides what `send` returns (false = the
 * transport is congested).
 */
export class SessionHarness {
  readonly session: MuxSession;
  readonly sent: Frame[] = [];
  accepting = true;
  clock = 0;

  constructor(options: Partial<Omit<SessionOptions, 'send'>> = {}) {
    this.session = new MuxSession({
      role: 'server',
      now: () => this.clock,
      ...options,
      send: (message) => {
        // Whatever the session sends must itself be valid protocol.
        this.sent.push(...decodeAll(message));
        return this.accepting;
      },
    });
  }

  /** Feeds one or more frames as a single message. */
  receive(...frames: Buffer[]): void {
    this.session.receive(Buffer.concat(frames));
  }

  /** Returns and forgets what was sent so far. */
  take(): Frame[] {
    return this.sent.splice(0);
  }

  /** Frames of one type sent so far (not forgotten). */
  sentOfType<T extends Frame['type']>(type: T): Extract<Frame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<Frame, { type: T }> => f.type === type);
  }

  /** Total DATA payload bytes sent on stream `id`. */
  dataBytes(id: number): number {
    return this.sentOfType(FrameType.DATA)
      .filter((f) => f.streamId === id)
      .reduce((n, f) => n + f.payload.length, 0);
  }
}

/** Resolves with the SHA-256 and length of everything `stream` delivers, consuming as it reads. */
export function drain(stream: ByteStream): Promise<{ sha256: string; length: number; error: Error | undefined }> {
  const hash = createHash('sha256');
  let length = 0;
  return new Promise((resolve) => {
    stream.on('data', (chunk) => {
      hash.update(chunk);
      length += chunk.length;
      stream.consume(chunk.length);
    });
    stream.on('end', () => resolve({ sha256: hash.digest('hex'), length, error: undefined }));
    stream.on('close', (err) => {
      if (err) resolve({ sha256: '', length, error: err });
    });
  });
}

/**
 * Writes `data` in chunks of at most `chunkSize`, honouring write()'s backpressure, then ends.
 * Resolves with the number of times write() returned false (and the writer waited for 'drain').
 */
export async function writeAll(stream: ByteStream, data: Buffer, chunkSize: number): Promise<number> {
  let waits = 0;
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    if (!stream.write(data.subarray(offset, offset + chunkSize))) {
      waits++;
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          stream.off('close', onClose);
          resolve();
        };
        const onClose = (err: Error | undefined): void => {
          stream.off('drain', onDrain);
          reject(err ?? new Error('closed while waiting for drain'));
        };
        stream.once('drain', onDrain);
        stream.once('close', onClose);
      });
    }
  }
  stream.end();
  return waits;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Lets the in-memory transport (setImmediate hops) run until `done()` holds, or until `rounds`
 * event-loop turns have passed; returns whether `done()` held.
 */
export async function settle(done: () => boolean = () => false, rounds = 200): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (done()) return true;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return done();
}

/** A server session that records its transport's writes: 'cork', 'uncork' and each frame type sent. */
export function recordingSession(options: { cork?: boolean; framePool?: FramePool } = {}): { session: MuxSession; log: string[]; messages: Buffer[] } {
  const log: string[] = [];
  const messages: Buffer[] = [];
  const session = new MuxSession({
    role: 'server',
    ...(options.framePool ? { framePool: options.framePool } : {}),
    ...(options.cork === false ? {} : { cork: { cork: () => log.push('cork'), uncork: () => log.push('uncork') } }),
    send: (message) => {
      messages.push(message);
      for (const frame of decodeAll(message)) log.push(`${FrameTypeName[frame.type]}:${frame.streamId}`);
      return true;
    },
  });
  return { session, log, messages };
}

/** Opens client stream `id` on `session` (as the peer would) and accepts it. */
export function acceptOpen(session: MuxSession, id: number, metadata?: Buffer): MuxStream {
  let stream: MuxStream | undefined;
  session.once('stream', (s) => {
    stream = s;
    s.accept();
  });
  session.receive(rawFrame(FrameType.OPEN, 0, id, openPayload(1 << 20, 'box', metadata)));
  if (!stream) throw new Error(`stream ${id} was not opened`);
  return stream;
}
