/**
 * Fuzz test for the OPEN metadata container. Random metadata values must round-trip; random
 * bytes and mutated valid containers (bit flips, overwrites, truncation, extension, tampered
 * type and length fields, spliced and repeated entries) must either decode or fail with a
 * coded FRAME_INVALID (never a TypeError, RangeError or any other throw); whatever decodes
 * encodes again to a container that decodes to the same value.
 *
 * Reproduce a failure with TETHER_FUZZ_SEED=<seed printed in the report>; change the amount of
 * work with TETHER_FUZZ_ITERATIONS (per phase, default 200,000 here).
 */
/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ErrorCode, TetherError } from './errors.js';
import { MAX_OPEN_METADATA_BYTES } from './frame.js';
import { decodeOpenMetadata, encodeOpenMetadata, OPEN_ENTRY_CRITICAL, OpenEntry, type OpenMetadata } from './open-metadata.js';
import { resumeHello, type StreamHello } from './resume.js';
import { Prng } from './test-support/testing.js';

const seed = process.env.TETHER_FUZZ_SEED !== undefined ? Number(process.env.TETHER_FUZZ_SEED) : randomInt(2 ** 31);
const iterations = Number(process.env.TETHER_FUZZ_ITERATIONS ?? 200_000);
const PROTOCOLS = ['ssh', 'http', 'h2', 'grpc', 'quic', 'x', 'a.b+c-d', 'z'.repeat(32)];
const TYPES = [0, ...Object.values(OpenEntry), 5, 0x00ff, 0x7fff, OPEN_ENTRY_CRITICAL, OPEN_ENTRY_CRITICAL | 1, 0xffff];

function fail(what: string, iteration: number, input: Buffer, cause?: unknown): never {
  const shown = input.length > 96 ? `${input.subarray(0, 96).toString('hex')}… (${input.length} bytes)` : input.toString('hex');
  const because = cause instanceof Error ? `: ${cause.name} ${cause.message}` : '';
  assert.fail(`${what} at iteration ${iteration}; replay with TETHER_FUZZ_SEED=${seed}; input ${shown}${because}`);
}

function hex(rng: Prng, n: number): string {
  return rng.bytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}

function makeGenerator(rng: Prng) {
  const hello = (): StreamHello => {
    const id = rng.bytes(16);
    const secret = rng.bytes(32);
    if (rng.chance(0.5)) return { kind: 'new', id, secret };
    const offset = rng.chance(0.3) ? rng.pick([0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) : rng.u32();
    return resumeHello(id, secret, 1 + rng.int(0xffffffff), offset);
  };
  const traceparent = (): string => {
    const version = rng.chance(0.8) ? '00' : rng.pick(['01', '7f', 'fe']);
    const base = `${version}-${hex(rng, 31)}1-${hex(rng, 15)}1-${hex(rng, 2)}`;
    return version === '00' ? base : `${base}${rng.chance(0.5) ? `-${hex(rng, rng.int(20))}` : ''}`;
  };
  const meta = (): OpenMetadata => {
    const m: OpenMetadata = {};
    if (rng.chance(0.7)) m.hello = hello();
    if (rng.chance(0.4)) m.traceparent = traceparent();
    if (rng.chance(0.4)) m.protocol = rng.pick(PROTOCOLS);
    if (rng.chance(0.3)) m.keyExchange = rng.bytes(rng.chance(0.1) ? rng.int(3000) : rng.int(200));
    return m;
  };
  /** One raw entry, valid or not, of any type. */
  const entry = (): Buffer => {
    const type = rng.pick(TYPES);
    const value = rng.bytes(rng.int(80));
    const head = Buffer.alloc(4);
    head.writeUInt16BE(type, 0);
    head.writeUInt16BE(rng.chance(0.8) ? value.length : rng.int(0x10000), 2);
    return Buffer.concat([head, value]);
  };
  const mutate = (input: Buffer): Buffer => {
    let buf: Buffer = Buffer.from(input);
    for (let n = 1 + rng.int(3); n > 0; n--) {
      const op = rng.int(8);
      if (buf.length === 0) buf = rng.bytes(1 + rng.int(16));
      const at = rng.int(buf.length);
      if (op === 0) buf[at] ^= 1 << rng.int(8);
      else if (op === 1) buf[at] = rng.pick([0, 1, 0x7f, 0x80, 0xff]);
      else if (op === 2) buf = buf.subarray(0, at);
      else if (op === 3) buf = Buffer.concat([buf, rng.chance(0.5) ? entry() : rng.bytes(1 + rng.int(8))]);
      else if (op === 4) buf = Buffer.concat([buf.subarray(0, at), entry(), buf.subarray(at)]);
      else if (op === 5 && buf.length >= 3) buf.writeUInt16BE(rng.pick(TYPES), 1); // the first entry's type
      else if (op === 6 && buf.length >= 5) buf.writeUInt16BE(rng.pick([0, 1, 49, 50, 62, 63, 0x7fff, 0xffff, buf.length - 5]) & 0xffff, 3);
      else buf = Buffer.concat([buf, buf.subarray(1)]); // every entry again
    }
    return buf.length > MAX_OPEN_METADATA_BYTES + 8 ? buf.subarray(0, MAX_OPEN_METADATA_BYTES + rng.int(8)) : buf;
  };
  return { meta, entry, mutate };
}

/** Decodes `input`; a value, or undefined after a coded refusal; anything else fails the test. */
function decodeOrRefuse(input: Buffer, i: number): OpenMetadata | undefined {
  try {
    return decodeOpenMetadata(input);
  } catch (err) {
    if (!(err instanceof TetherError) || err.code !== ErrorCode.FRAME_INVALID) fail('an uncoded or wrongly coded throw', i, input, err);
    return undefined;
  }
}

test(`OPEN metadata: ${iterations.toLocaleString('en')} random values round-trip`, (t) => {
  t.diagnostic(`TETHER_FUZZ_SEED=${seed} iterations=${iterations}`);
  const gen = makeGenerator(new Prng(seed));
  for (let i = 0; i < iterations; i++) {
    const meta = gen.meta();
    let bytes: Buffer;
    try {
      bytes = encodeOpenMetadata(meta);
    } catch (err) {
      fail('a valid value did not encode', i, Buffer.from(JSON.stringify(meta)), err);
    }
    if (bytes.length > MAX_OPEN_METADATA_BYTES) fail('encoded over the limit', i, bytes);
    const back = decodeOrRefuse(bytes, i);
    if (back === undefined) fail('an encoded value was refused', i, bytes);
    assert.deepEqual(back, meta, `round trip at iteration ${i}, TETHER_FUZZ_SEED=${seed}`);
  }
});

test(`OPEN metadata: ${iterations.toLocaleString('en')} hostile inputs fail only with FRAME_INVALID`, (t) => {
  t.diagnostic(`TETHER_FUZZ_SEED=${seed} iterations=${iterations}`);
  const rng = new Prng(seed ^ 0x5bd1e995);
  const gen = makeGenerator(rng);
  const stackTraceLimit = Error.stackTraceLimit;
  if (process.env.TETHER_FUZZ_STACKS === undefined) Error.stackTraceLimit = 0;
  t.after(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });
  let decoded = 0;
  for (let i = 0; i < iterations; i++) {
    const kind = rng.int(10);
    let input: Buffer;
    if (kind < 2) input = rng.bytes(rng.int(120));
    else if (kind < 4) input = Buffer.concat([Buffer.from([1]), ...Array.from({ length: rng.int(5) }, () => gen.entry())]);
    else input = gen.mutate(encodeOpenMetadata(gen.meta()));
    const meta = decodeOrRefuse(input, i);
    if (meta === undefined) continue;
    decoded++;
    // What decodes is a value this version can send again, and it reads back the same.
    let again: Buffer;
    try {
      again = encodeOpenMetadata(meta);
    } catch (err) {
      fail('a decoded value did not encode again', i, input, err);
    }
    assert.deepEqual(decodeOpenMetadata(again), meta, `re-encoding at iteration ${i}, TETHER_FUZZ_SEED=${seed}`);
  }
  t.diagnostic(`decoded ${decoded} of ${iterations}`);
  // A fuzzer that never gets past the checks tests nothing.
  assert.ok(decoded > iterations / 50, `only ${decoded} inputs decoded`);
});
