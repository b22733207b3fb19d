/**
 * Fuzz test for the protocol classifier: random bytes, and valid first flights (SSH banner,
 * ClientHello, request line, HTTP/2 preface) mutated (bit flips, overwrites, truncation, tampered
 * TLS length fields, splicing), fed in random chunk sizes. Checks that it never throws, always
 * decides by the bound, keeps no more than the bound, reports only the protocols it knows with
 * fields that are short printable text, and decides the same whatever the chunking.
 *
 * Reproduce a failure with TETHER_FUZZ_SEED=<seed printed in the report>; change the amount of
 * work with TETHER_FUZZ_ITERATIONS (default 100,000).
 */
/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ProtocolSniffer, type SniffResult } from './protocol-sniff.js';
import { Prng } from './test-support/testing.js';
import { SNIFFED_PROTOCOLS } from './tunnel-settings.js';

const seed = process.env.TETHER_FUZZ_SEED !== undefined ? Number(process.env.TETHER_FUZZ_SEED) : randomInt(2 ** 31);
const iterations = Number(process.env.TETHER_FUZZ_ITERATIONS ?? 100_000);
const BOUND = 2048;

function clientHello(rng: Prng): Buffer {
  const name = Buffer.from(rng.pick(['example.com', 'a.b', 'x'.repeat(200)]), 'latin1');
  const sni = Buffer.concat([Buffer.from([0, 0, name.length + 3, 0, 0, name.length]), name]);
  sni.writeUInt16BE(0, 0);
  sni.writeUInt16BE(name.length + 3, 0);
  const alpn = Buffer.from([0, 12, 2, 0x68, 0x32, 8, ...Buffer.from('http/1.1')]);
  const ext = Buffer.concat([Buffer.from([0, 0, 0, sni.length]), sni, Buffer.from([0, 16, 0, alpn.length]), alpn]);
  const body = Buffer.concat([Buffer.from([3, 3]), rng.bytes(32), Buffer.from([0, 0, 2, 0x13, 1, 1, 0, 0, ext.length]), ext]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  const size = rng.pick([hs.length, 40, 7]);
  const out: Buffer[] = [];
  for (let at = 0; at < hs.length; at += size) {
    const part = hs.subarray(at, at + size);
    out.push(Buffer.from([0x16, 3, 1, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(out);
}

const SEEDS: ((rng: Prng) => Buffer)[] = [
  () => Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'),
  () => Buffer.from('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'),
  () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  clientHello,
  (rng) => rng.bytes(rng.int(3 * BOUND)),
];

function mutate(rng: Prng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let n = rng.int(4); n > 0 && out.length > 0; n--) {
    const at = rng.int(out.length);
    switch (rng.int(5)) {
      case 0: out[at] ^= 1 << rng.int(8); break;
      case 1: out[at] = rng.pick([0, 0x0a, 0x0d, 0x20, 0x16, 0x03, 0xff]); break;
      case 2: return out.subarray(0, at);
      case 3: if (at + 1 < out.length) out.writeUInt16BE(rng.pick([0, 1, 0xffff, 0x4000, 0x4001, rng.int(0x10000)]), at); break;
      default: return Buffer.concat([out, rng.bytes(rng.int(BOUND))]);
    }
  }
  return out;
}

/** Feeds `bytes` in random chunk sizes; the decision, or the one at the end of the stream. */
function run(rng: Prng, bytes: Buffer): SniffResult {
  const sniffer = new ProtocolSniffer(BOUND);
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + rng.int(rng.chance(0.5) ? 16 : 4096);
    const result = sniffer.push(bytes.subarray(at, at + size));
    assert.ok(sniffer.held.length <= BOUND);
    at = Math.min(bytes.length, at + size);
    if (result) return result;
    assert.ok(at < BOUND, 'undecided at the bound');
  }
  return sniffer.finish();
}

const PRINTABLE = /^[\x20-\x7e]*$/;

test(`the classifier never throws, decides by its bound, and chunking does not change the decision (seed ${seed})`, () => {
  const rng = new Prng(seed);
  for (let i = 0; i < iterations; i++) {
    const bytes = mutate(rng, rng.pick(SEEDS)(rng));
    let a: SniffResult;
    let b: SniffResult;
    try {
      a = run(rng, bytes);
      b = run(rng, bytes);
    } catch (err) {
      assert.fail(`iteration ${i} (seed ${seed}) threw on ${bytes.subarray(0, 64).toString('hex')}: ${String(err)}`);
    }
    assert.deepEqual(a, b, `iteration ${i} (seed ${seed}): chunking changed the decision`);
    assert.ok((SNIFFED_PROTOCOLS as readonly string[]).includes(a.protocol));
    for (const text of [a.sni, a.sshVersion, a.method, ...(a.alpn ?? [])]) {
      if (text === undefined) continue;
      assert.ok(text.length <= 255 && PRINTABLE.test(text), `iteration ${i} (seed ${seed}): field ${JSON.stringify(text)}`);
    }
  }
});
