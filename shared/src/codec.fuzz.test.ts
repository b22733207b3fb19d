/**
 * Fuzz test for the frame decoder and the session that sits on it. Feeds random buffers and
 * mutated valid frames (bit flips, overwrites, truncation, extension, tampered length, type,
 * flags and stream id fields, splicing, batching) and checks that:
 *  - every failure is a TetherError with a decoder code (never a TypeError, RangeError, crash);
 *  - nothing decoded is larger than the limits, and payloads are views, not copies;
 *  - a session never throws from receive(), only closes with a coded protocol error, and
 *    everything it sends in reply is itself valid protocol;
 *  - memory stays bounded.
 *
 * Reproduce a failure with TETHER_FUZZ_SEED=<seed printed in the report>; change the amount of
 * work with TETHER_FUZZ_ITERATIONS (per phase, default 1,000,000).
 */
/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import {
  decodeFrames,
  encodeData,
  encodeDatagram,
  encodeFrame,
  encodeGoAway,
  encodeOpen,
  encodeOpenErr,
  encodeOpenOk,
  encodePing,
  encodePong,
  encodeReset,
  encodeWindow,
} from './codec.js';
import { ErrorCode, TetherError, WireCode, type ErrorCodeString } from './errors.js';
import { FrameType, HEADER_SIZE, MAX_OPEN_METADATA_BYTES, MAX_REASON_BYTES, type Frame } from './frame.js';
import { MuxSession } from './session.js';
import type { MuxStream } from './stream.js';
import { Prng } from './test-support/testing.js';
import { TUNNEL_NAME_PATTERN } from './tunnel-name.js';

const seed = process.env.TETHER_FUZZ_SEED !== undefined ? Number(process.env.TETHER_FUZZ_SEED) : randomInt(2 ** 31);
const iterations = Number(process.env.TETHER_FUZZ_ITERATIONS ?? 1_000_000);
/** Small, so that random length fields mostly exceed it and valid frames hit it exactly. */
const maxFrameSize = 512;
const limits = { maxFrameSize };
const memoryBudgetBytes = 96 * 1024 * 1024;

const DECODER_CODES: ReadonlySet<string> = new Set<ErrorCodeString>([
  ErrorCode.FRAME_TRUNCATED,
  ErrorCode.FRAME_TOO_LARGE,
  ErrorCode.FRAME_INVALID,
  ErrorCode.UNKNOWN_FRAME_TYPE,
]);
/** Codes a session may close with when fed hostile input (INTERNAL would mean a crash). */
const SESSION_CLOSE_CODES: ReadonlySet<string> = new Set<ErrorCodeString>([...DECODER_CODES, ErrorCode.PROTOCOL_ERROR] as ErrorCodeString[]);
const REASON_TYPES: ReadonlySet<number> = new Set([FrameType.OPEN_ERR, FrameType.RESET, FrameType.GOAWAY]);
const CONNECTION_TYPES: ReadonlySet<number> = new Set([FrameType.PING, FrameType.PONG, FrameType.GOAWAY]);
/** Codes a local call may throw, by design, in the states the fuzzer drives a session into. */
const LOCAL_CALL_CODES: ReadonlySet<string> = new Set<ErrorCodeString>([ErrorCode.GOING_AWAY, ErrorCode.STREAM_LIMIT, ErrorCode.CONNECTION_LOST]);
const TUNNELS = ['a', 'box', 'my-tunnel-01', 'z'.repeat(63)];
const WIRE_CODES = Object.values(WireCode);
const INTERESTING_U32 = [0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, maxFrameSize - 1, maxFrameSize, maxFrameSize + 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

class FuzzFailure extends Error {}

function fail(what: string, iteration: number, input: Buffer, cause?: unknown): never {
  const shown = input.length > 96 ? `${input.subarray(0, 96).toString('hex')}… (${input.length} bytes)` : input.toString('hex');
  const because = cause instanceof Error ? `: ${cause.name} ${cause.message}\n${cause.stack ?? ''}` : '';
  throw new FuzzFailure(
    `${what} at iteration ${iteration}; replay with TETHER_FUZZ_SEED=${seed} TETHER_FUZZ_STACKS=1; input ${shown}${because}`,
  );
}

/** Checks one decoded frame against the limits; returns a complaint or undefined. */
function checkFrame(frame: Frame, input: Buffer, start: number, end: number): string | undefined {
  if (end - start - HEADER_SIZE > maxFrameSize) return `frame of ${end - start} bytes passed a limit of ${maxFrameSize}`;
  switch (frame.type) {
    case FrameType.DATA:
    case FrameType.DATAGRAM:
      if (frame.payload.length > maxFrameSize) return 'payload over maxFrameSize';
      if (frame.payload.buffer !== input.buffer) return 'payload was copied';
      break;
    case FrameType.OPEN:
      if (frame.metadata.length > MAX_OPEN_METADATA_BYTES) return 'OPEN metadata over the limit';
      if (!TUNNEL_NAME_PATTERN.test(frame.tunnel)) return `invalid tunnel name ${JSON.stringify(frame.tunnel)} decoded`;
      if (frame.window === 0) return 'zero OPEN window decoded';
      break;
    case FrameType.PING:
    case FrameType.PONG:
      if (frame.data.length !== 8) return 'PING/PONG data not 8 bytes';
      break;
    case FrameType.OPEN_OK:
      if (frame.window === 0) return 'zero OPEN_OK window decoded';
      break;
    case FrameType.WINDOW:
      if (frame.increment === 0) return 'zero WINDOW increment decoded';
      break;
    default: {
      const reasonBytes = end - start - HEADER_SIZE - (frame.type === FrameType.GOAWAY ? 6 : 2);
      if (reasonBytes > MAX_REASON_BYTES) return `reason of ${reasonBytes} bytes decoded`;
    }
  }
  if ((frame.streamId === 0) !== CONNECTION_TYPES.has(frame.type)) return `stream id ${frame.streamId} on frame type ${frame.type}`;
  // A well-formed frame re-encodes to the very same bytes (reasons only when valid UTF-8).
  if (!(REASON_TYPES.has(frame.type) && 'message' in frame && frame.message.includes('\uFFFD'))) {
    if (!encodeFrame(frame).equals(input.subarray(start, end))) return 'frame does not re-encode to its bytes';
  }
  return undefined;
}

/** State the generator keeps about the session it is feeding, so valid input goes deep. */
interface Target {
  session: MuxSession;
  nextPeerId: number;
  lastPing: Buffer | undefined;
}

function makeGenerator(rng: Prng) {
  const knownId = (t: Target): number => {
    const streams = t.session.listStreams();
    if (streams.length > 0 && rng.chance(0.85)) return rng.pick(streams).id;
    return rng.pick([1, 2, 3, 4, 5, 7, 9, t.nextPeerId, 1 + rng.int(64)]);
  };
  const ourId = (t: Target): number => {
    const ours = t.session.listStreams().filter((s) => s.state === 'opening');
    if (ours.length > 0 && rng.chance(0.95)) return rng.pick(ours).id;
    // A stream of ours that is gone or never was (ignored), or sometimes one in another state.
    return rng.chance(0.8) ? 2 * (1 + rng.int(64)) - (t.nextPeerId % 2 === 1 ? 0 : 1) : knownId(t);
  };
  const size = (): number => rng.pick([0, 1, 8, rng.int(maxFrameSize + 1), maxFrameSize]);
  const reason = (): string => rng.pick(['', 'no', 'going away', 'é'.repeat(rng.int(10)), 'x'.repeat(rng.int(maxFrameSize - 6 + 1))]);

  /** One valid frame, mostly sensible for the target session's state. */
  function valid(t: Target): Buffer {
    switch (rng.int(14)) {
      case 0:
      case 1: {
        const id = t.nextPeerId;
        t.nextPeerId += rng.chance(0.9) ? 2 : 2 * (1 + rng.int(4));
        return encodeOpen(id, rng.pick([1, 100, 65536, 1 + rng.int(0xffffffff)]), rng.pick(TUNNELS), rng.bytes(rng.pick([0, 0, 3, 200])));
      }
      case 2:
      case 3:
      case 4:
        return encodeData(knownId(t), rng.bytes(size()), rng.chance(0.1));
      case 5:
        return encodeWindow(knownId(t), rng.pick([1, 100, 65536, 1 + rng.int(0xffffffff)]));
      case 6:
        return encodeReset(knownId(t), rng.pick(WIRE_CODES), reason());
      case 7:
        return encodeOpenOk(ourId(t), rng.pick([1, 1000, 1 + rng.int(0xffffffff)]));
      case 8:
        return encodeOpenErr(ourId(t), rng.pick([...WIRE_CODES, 999]), reason());
      case 9:
        return encodePing(rng.bytes(8));
      case 10:
        return encodePong(t.lastPing && rng.chance(0.7) ? t.lastPing : rng.bytes(8));
      case 11:
        return encodeGoAway(rng.pick([0, 1, 2, 3, 0xffffffff, knownId(t)]), rng.pick(WIRE_CODES), reason());
      case 12:
        return encodeDatagram(1 + rng.int(10), rng.bytes(size()));
      default:
        return encodeData(knownId(t), Buffer.alloc(0), true);
    }
  }

  /**
   * Changes a frame's meaning but keeps it decodable, so that it reaches the session's rules
   * (wrong stream, state, credit or code) instead of the decoder's.
   */
  function semantic(frame: Buffer): Buffer {
    const b = Buffer.from(frame);
    const connection = CONNECTION_TYPES.has(b[0]);
    switch (rng.int(5)) {
      case 0: // another stream id
        if (!connection) b.writeUInt32BE(rng.pick([1, 2, 3, 4, 5, 6, 0xfffffffe, 0xffffffff, 1 + rng.int(0xfffffffe)]), 2);
        break;
      case 1: // toggle FIN
        if (b[0] === FrameType.DATA) b[1] ^= 1;
        break;
      case 2: { // a type of the same payload shape
        const twins: Record<number, number> = { 0: 9, 9: 0, 2: 4, 4: 2, 3: 5, 5: 3, 6: 7, 7: 6 };
        b[0] = twins[b[0]] ?? b[0];
        if (b[0] !== FrameType.DATA) b[1] = 0;
        break;
      }
      case 3: // another window, increment, or last stream id
        if (b.length >= HEADER_SIZE + 4 && b[0] !== FrameType.DATA && b[0] !== FrameType.DATAGRAM) {
          b.writeUInt32BE(rng.pick(INTERESTING_U32.filter((n) => n !== 0)), HEADER_SIZE);
        }
        break;
      default: // another wire code in OPEN_ERR / RESET
        if (b.length >= HEADER_SIZE + 2 && (b[0] === FrameType.OPEN_ERR || b[0] === FrameType.RESET)) b.writeUInt16BE(rng.int(0x10000), HEADER_SIZE);
    }
    return b;
  }

  /** Byte-level damage. */
  function mutate(frame: Buffer): Buffer {
    let b = Buffer.from(frame);
    const rounds = 1 + rng.int(3);
    for (let r = 0; r < rounds; r++) {
      switch (rng.int(9)) {
        case 0: // bit flips
          for (let i = 1 + rng.int(4); i > 0 && b.length > 0; i--) b[rng.int(b.length)] ^= 1 << rng.int(8);
          break;
        case 1: // byte overwrites, half of them in the header
          for (let i = 1 + rng.int(4); i > 0 && b.length > 0; i--) {
            b[rng.chance(0.5) ? rng.int(Math.min(b.length, HEADER_SIZE)) : rng.int(b.length)] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
          }
          break;
        case 2: // truncation
          b = b.subarray(0, rng.int(b.length + 1));
          break;
        case 3: // extension
          b = Buffer.concat([b, rng.bytes(1 + rng.int(HEADER_SIZE * 2))]);
          break;
        case 4: // length field
          if (b.length >= HEADER_SIZE) b.writeUInt32BE(rng.chance(0.7) ? rng.pick(INTERESTING_U32) : rng.u32(), 6);
          else if (b.length >= 10) b.writeUInt32BE(b.length - HEADER_SIZE + rng.pick([-1, 1]), 6);
          break;
        case 5: // type field
          if (b.length > 0) b[0] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x7f, 0x80, 0xff]);
          break;
        case 6: // stream id field
          if (b.length >= 6) b.writeUInt32BE(rng.pick(INTERESTING_U32), 2);
          break;
        case 7: // flags field
          if (b.length >= 2) b[1] = rng.pick([0, 1, 2, 3, 0x80, 0xff]);
          break;
        default: // internal length bytes of OPEN (name length) and reasons
          if (b.length > HEADER_SIZE + 4) b[HEADER_SIZE + 4] = rng.pick([0, 1, 63, 64, 0xff, rng.int(256)]);
      }
    }
    return b;
  }

  function random(): Buffer {
    return rng.bytes(rng.pick([0, 1, 9, 10, 11, rng.int(32), rng.int(maxFrameSize * 2 + HEADER_SIZE)]));
  }

  function splice(x: Buffer, y: Buffer): Buffer {
    return Buffer.concat([x.subarray(0, rng.int(x.length + 1)), y.subarray(rng.int(y.length + 1))]);
  }

  return { valid, semantic, mutate, random, splice };
}

test(`decoder and session survive ${iterations.toLocaleString('en')} hostile inputs each`, { timeout: 180_000 }, (t) => {
  t.diagnostic(`TETHER_FUZZ_SEED=${seed} iterations=${iterations} maxFrameSize=${maxFrameSize}`);
  const rng = new Prng(seed);
  const gen = makeGenerator(rng);
  const baseline = process.memoryUsage();
  let peakArrayBuffers = baseline.arrayBuffers;
  let peakHeap = baseline.heapUsed;
  const sampleMemory = (i: number, input: Buffer): void => {
    const m = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    if (m.arrayBuffers - baseline.arrayBuffers > memoryBudgetBytes) fail(`arrayBuffers grew by ${m.arrayBuffers - baseline.arrayBuffers} bytes`, i, input);
    if (m.heapUsed - baseline.heapUsed > memoryBudgetBytes) fail(`heap grew by ${m.heapUsed - baseline.heapUsed} bytes`, i, input);
  };
  // Capturing stack traces for the hundreds of thousands of expected TetherErrors takes half
  // of a run; skip it unless asked (a failure replays from its seed with TETHER_FUZZ_STACKS=1).
  const stackTraceLimit = Error.stackTraceLimit;
  if (process.env.TETHER_FUZZ_STACKS === undefined) Error.stackTraceLimit = 0;
  t.after(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });
  const started = performance.now();

  // --- Phase 1: the decoder alone, mostly damaged input --------------------------------------
  const errorCounts = new Map<string, number>();
  let framesDecoded = 0;
  const idle: Target = {
    session: new MuxSession({ role: 'server', send: () => true }),
    nextPeerId: 1,
    lastPing: undefined,
  };
  let input: Buffer = Buffer.alloc(0);
  let at = 0;
  const onFrame = (frame: Frame, start: number, end: number): void => {
    framesDecoded++;
    const complaint = checkFrame(frame, input, start, end);
    if (complaint) fail(complaint, at, input);
  };
  for (let i = 0; i < iterations; i++) {
    at = i;
    const kind = rng.int(20);
    if (kind < 3) input = gen.random();
    else if (kind < 5) input = gen.valid(idle);
    else if (kind < 13) input = gen.mutate(gen.valid(idle));
    else if (kind < 16) input = gen.splice(gen.valid(idle), gen.mutate(gen.valid(idle)));
    else {
      const parts: Buffer[] = [];
      for (let n = 2 + rng.int(3); n > 0; n--) parts.push(rng.chance(0.7) ? gen.valid(idle) : gen.mutate(gen.valid(idle)));
      input = Buffer.concat(parts);
    }
    try {
      decodeFrames(input, limits, onFrame);
      errorCounts.set('ok', (errorCounts.get('ok') ?? 0) + 1);
    } catch (err) {
      if (err instanceof FuzzFailure) throw err;
      if (!(err instanceof TetherError)) fail('decoder threw a non-Tether error', i, input, err);
      if (!DECODER_CODES.has(err.code)) fail(`decoder threw unexpected code ${err.code}`, i, input, err);
      errorCounts.set(err.code, (errorCounts.get(err.code) ?? 0) + 1);
    }
    if (i % 50_000 === 0) sampleMemory(i, input);
  }
  const phase1Ms = performance.now() - started;

  // --- Phase 2: sessions fed mostly valid, stateful input with semantic and byte damage ------
  let clock = 0;
  let sessions = 0;
  const closeCounts = new Map<string, number>();
  let current: Target;
  let replacing = false;
  let handlerFailure: unknown;
  let sendFailure: string | undefined;
  const guard = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      handlerFailure ??= err;
    }
  };
  const ended = new WeakSet<MuxStream>();
  let streamsAccepted = 0;
  let dataEvents = 0;
  let peakStreams = 0;
  const attach = (s: MuxStream): void => {
    s.on('data', (chunk) => guard(() => {
      dataEvents++;
      if (rng.chance(0.8)) s.consume(chunk.length);
      if (rng.chance(0.1) && !ended.has(s) && s.state !== 'closed' && s.queuedBytes < 4096) s.write(rng.bytes(rng.int(700)));
      if (rng.chance(0.03)) {
        ended.add(s);
        s.end();
      }
      if (rng.chance(0.01)) s.reset(rng.pick(WIRE_CODES), 'fuzz reset');
    }));
  };
  const newSession = (): Target => {
    sessions++;
    const role = rng.chance(0.5) ? 'server' : 'client';
    const target: Target = { session: undefined as unknown as MuxSession, nextPeerId: role === 'server' ? 1 : 2, lastPing: undefined };
    const session = new MuxSession({
      role,
      maxFrameSize,
      initialWindow: rng.pick([1024, 4096, 65536]),
      maxWindow: 262_144,
      maxStreams: 32,
      streamHighWaterMark: 8192,
      now: () => clock,
      send: (message) => {
        // Everything a session says must be valid protocol for a peer with the same limits.
        try {
          decodeFrames(message, limits, (frame) => {
            if (frame.type === FrameType.PING) target.lastPing = Buffer.from(frame.data);
          });
        } catch (err) {
          sendFailure ??= `session sent an invalid frame ${message.subarray(0, 64).toString('hex')}: ${String(err)}`;
        }
        return rng.chance(0.95);
      },
    });
    target.session = session;
    session.on('stream', (s) => guard(() => {
      attach(s);
      const r = rng.int(10);
      if (r < 7) {
        s.accept();
        streamsAccepted++;
      }
      else if (r < 9) s.reject(rng.pick(WIRE_CODES), 'fuzz reject');
    }));
    session.on('close', (err) => {
      if (replacing) return;
      const code = err?.code ?? 'clean';
      closeCounts.set(code, (closeCounts.get(code) ?? 0) + 1);
      if (!err || !SESSION_CLOSE_CODES.has(err.code)) handlerFailure ??= err ?? new Error('session closed without an error');
    });
    return target;
  };
  current = newSession();
  for (let i = 0; i < iterations; i++) {
    at = i;
    clock += rng.int(3);
    const kind = rng.int(100);
    if (kind < 85) input = rng.chance(0.3) ? Buffer.concat([gen.valid(current), gen.valid(current)]) : gen.valid(current);
    else if (kind < 95) input = gen.semantic(gen.valid(current));
    else if (kind < 98) input = gen.mutate(gen.valid(current));
    else input = gen.random();
    try {
      current.session.receive(input);
    } catch (err) {
      fail('session.receive() threw', i, input, err);
    }
    if (handlerFailure !== undefined) fail('session failed', i, input, handlerFailure);
    if (sendFailure !== undefined) fail(sendFailure, i, input);
    if (current.session.streamCount > current.session.options.maxStreams) fail('stream limit exceeded', i, input);
    peakStreams = Math.max(peakStreams, current.session.streamCount);
    // Drive the local side too: opens, pings, GOAWAY, congestion relief.
    const action = rng.int(100);
    try {
      if (action < 3) current.session.openStream(rng.pick(TUNNELS), rng.bytes(rng.int(16)));
      else if (action < 5) current.session.ping();
      else if (action < 6) current.session.transportDrained();
      else if (action === 6 && rng.chance(0.05)) current.session.goAway();
    } catch (err) {
      // Opening may be refused, with a code, once the peer said GOAWAY or the limit is reached.
      if (!(err instanceof TetherError) || !LOCAL_CALL_CODES.has(err.code)) {
        fail('a local call threw', i, input, err);
      }
    }
    if (handlerFailure !== undefined) fail('session failed', i, input, handlerFailure);
    if (current.session.closed || rng.chance(0.0005)) {
      replacing = true;
      current.session.destroy();
      replacing = false;
      current = newSession();
    }
    if (i % 50_000 === 0) sampleMemory(i, input);
  }
  const totalMs = performance.now() - started;

  const show = (m: Map<string, number>): string => [...m.entries()].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k}=${v}`).join(' ');
  t.diagnostic(`phase 1: ${iterations} inputs, ${framesDecoded} frames decoded, ${(phase1Ms / 1000).toFixed(1)} s; outcomes ${show(errorCounts)}`);
  t.diagnostic(`phase 2: ${iterations} inputs into ${sessions} sessions, ${((totalMs - phase1Ms) / 1000).toFixed(1)} s; ${streamsAccepted} streams accepted, ${dataEvents} data events, peak ${peakStreams} streams in one session; closes ${show(closeCounts)}`);
  t.diagnostic(`peak arrayBuffers +${((peakArrayBuffers - baseline.arrayBuffers) / 1e6).toFixed(1)} MB, heap +${((peakHeap - baseline.heapUsed) / 1e6).toFixed(1)} MB`);

  // The fuzzer has to have reached every outcome, or it is not testing what it claims to.
  for (const code of [...DECODER_CODES, 'ok']) assert.ok((errorCounts.get(code) ?? 0) > 0, `phase 1 never produced ${code}`);
  assert.ok(framesDecoded > iterations / 2);
  assert.ok(sessions > 100, 'sessions were closed and replaced');
  assert.ok((closeCounts.get(ErrorCode.PROTOCOL_ERROR) ?? 0) > 0, 'phase 2 reached session-level protocol errors');
});
