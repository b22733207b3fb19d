/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from './errors.js';
import { MAX_OPEN_METADATA_BYTES } from './frame.js';
import { decodeOpenMetadata, encodeOpenMetadata, OPEN_ENTRY_CRITICAL, OpenEntry, readTraceContext, withTraceContext, type OpenMetadata } from './open-metadata.js';
import { encodeNewHello, newStreamIdentity, resumeHello } from './resume.js';

const { id, secret } = newStreamIdentity();
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** One entry's bytes: type:u16, length:u16, value. */
function entry(type: number, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(v.length, 2);
  return Buffer.concat([head, v]);
}
const container = (...entries: Buffer[]): Buffer => Buffer.concat([Buffer.from([1]), ...entries]);

describe('OPEN metadata round trip', () => {
  const cases: { name: string; meta: OpenMetadata }[] = [
    { name: 'nothing', meta: {} },
    { name: 'a NEW hello', meta: { hello: { kind: 'new', id, secret } } },
    { name: 'a RESUME hello', meta: { hello: resumeHello(id, secret, 7, 2 ** 40 + 3) } },
    { name: 'a traceparent', meta: { traceparent: TRACE } },
    { name: 'a later traceparent version with more fields', meta: { traceparent: `01-${TRACE.slice(3)}-what.ever` } },
    { name: 'a traceparent and a tracestate', meta: { traceparent: TRACE, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' } },
    { name: 'a tracestate of 512 characters', meta: { traceparent: TRACE, tracestate: `k=${'v'.repeat(255)},l=${'w'.repeat(252)}` } },
    { name: 'a protocol hint', meta: { protocol: 'ssh' } },
    { name: 'an empty key exchange', meta: { keyExchange: Buffer.alloc(0) } },
    {
      name: 'every entry at once',
      meta: { hello: { kind: 'new', id, secret }, traceparent: TRACE, protocol: 'h2', keyExchange: Buffer.alloc(1200, 7) },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const bytes = encodeOpenMetadata(c.meta);
      assert.equal(bytes[0], 1, 'version 1');
      assert.deepEqual(decodeOpenMetadata(bytes), c.meta);
    });
  }

  test('empty metadata is a plain stream with nothing to say', () => {
    assert.deepEqual(decodeOpenMetadata(Buffer.alloc(0)), {});
  });

  test('the hello entry holds exactly the hello bytes', () => {
    assert.deepEqual(encodeOpenMetadata({ hello: { kind: 'new', id, secret } }), container(entry(OpenEntry.HELLO, encodeNewHello(id, secret))));
  });

  test('entries may come in any order; unknown ones are skipped, even twice', () => {
    const bytes = container(entry(0x7001, 'future'), entry(OpenEntry.PROTOCOL, 'http'), entry(0x7001, ''), entry(OpenEntry.HELLO, encodeNewHello(id, secret)));
    assert.deepEqual(decodeOpenMetadata(bytes), { protocol: 'http', hello: { kind: 'new', id, secret } });
  });

  test('a container of exactly the limit is read', () => {
    const fill = MAX_OPEN_METADATA_BYTES - 1 - 4;
    assert.deepEqual(decodeOpenMetadata(container(entry(OpenEntry.KEY_EXCHANGE, Buffer.alloc(fill)))).keyExchange?.length, fill);
  });

  test('values are copies that outlive the frame', () => {
    const bytes = encodeOpenMetadata({ keyExchange: Buffer.from('abc') });
    const meta = decodeOpenMetadata(bytes);
    bytes.fill(0);
    assert.equal(meta.keyExchange?.toString(), 'abc');
  });
});

describe('malformed OPEN metadata is refused with FRAME_INVALID', () => {
  const hello = encodeNewHello(id, secret);
  const cases: { name: string; bytes: Buffer }[] = [
    { name: 'version 0', bytes: Buffer.from([0]) },
    { name: 'version 2', bytes: Buffer.concat([Buffer.from([2]), entry(OpenEntry.PROTOCOL, 'ssh')]) },
    { name: 'JSON (not a container)', bytes: Buffer.from('{"target":"ssh"}') },
    { name: 'a bare hello (the layout before the container)', bytes: hello },
    { name: 'an entry header cut short', bytes: Buffer.from([1, 0, 1, 0]) },
    { name: 'a value cut short', bytes: container(entry(OpenEntry.HELLO, hello)).subarray(0, 30) },
    { name: 'a length past the end', bytes: Buffer.from([1, 0, 3, 0xff, 0xff, 0x73]) },
    { name: 'entry type 0', bytes: container(entry(0, 'x')) },
    { name: 'the hello twice', bytes: container(entry(OpenEntry.HELLO, hello), entry(OpenEntry.HELLO, hello)) },
    { name: 'the protocol twice', bytes: container(entry(OpenEntry.PROTOCOL, 'ssh'), entry(OpenEntry.PROTOCOL, 'ssh')) },
    { name: 'an unknown critical entry', bytes: container(entry(OPEN_ENTRY_CRITICAL | 0x0123, 'must understand')) },
    { name: 'a hello entry with no hello in it', bytes: container(entry(OpenEntry.HELLO, 'hello')) },
    { name: 'a hello entry with a short hello', bytes: container(entry(OpenEntry.HELLO, hello.subarray(0, 20))) },
    { name: 'an empty hello entry', bytes: container(entry(OpenEntry.HELLO, '')) },
    { name: 'the traceparent twice', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE), entry(OpenEntry.TRACE_PARENT, TRACE)) },
    { name: 'a good traceparent with a bad hello', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE), entry(OpenEntry.HELLO, 'x')) },
    { name: 'a protocol in upper case', bytes: container(entry(OpenEntry.PROTOCOL, 'SSH')) },
    { name: 'an empty protocol', bytes: container(entry(OpenEntry.PROTOCOL, '')) },
    { name: 'a protocol of 33 characters', bytes: container(entry(OpenEntry.PROTOCOL, 'a'.repeat(33))) },
    { name: 'one byte over the limit', bytes: container(entry(OpenEntry.KEY_EXCHANGE, Buffer.alloc(MAX_OPEN_METADATA_BYTES - 4))) },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(() => decodeOpenMetadata(c.bytes), { code: ErrorCode.FRAME_INVALID });
    });
  }
});

describe('unusable values are refused with INVALID_ARGUMENT before anything is sent', () => {
  const cases: { name: string; meta: OpenMetadata }[] = [
    { name: 'a traceparent that is none', meta: { traceparent: 'trace me' } },
    { name: 'a tracestate without a traceparent', meta: { tracestate: 'k=v' } },
    { name: 'a tracestate that is none', meta: { traceparent: TRACE, tracestate: 'no equals sign' } },
    { name: 'a tracestate of 513 characters', meta: { traceparent: TRACE, tracestate: `k=${'v'.repeat(255)},l=${'w'.repeat(253)}` } },
    { name: 'a protocol with a space', meta: { protocol: 'my proto' } },
    { name: 'a stream id of 15 bytes', meta: { hello: { kind: 'new', id: Buffer.alloc(15), secret } } },
    { name: 'a secret of 31 bytes', meta: { hello: { kind: 'new', id, secret: Buffer.alloc(31) } } },
    { name: 'a proof of 31 bytes', meta: { hello: { ...resumeHello(id, secret, 1, 0), proof: Buffer.alloc(31) } } },
    { name: 'more than the limit in all', meta: { keyExchange: Buffer.alloc(MAX_OPEN_METADATA_BYTES - 4) } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(() => encodeOpenMetadata(c.meta), { code: ErrorCode.INVALID_ARGUMENT });
    });
  }
});

describe('unusable trace context is dropped, never a refusal', () => {
  const long = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',');
  const cases: { name: string; bytes: Buffer; expect: OpenMetadata }[] = [
    { name: 'a traceparent in upper case', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE.toUpperCase())), expect: {} },
    { name: 'a traceparent of version ff', bytes: container(entry(OpenEntry.TRACE_PARENT, `ff${TRACE.slice(2)}`)), expect: {} },
    { name: 'a traceparent with a zero trace id', bytes: container(entry(OpenEntry.TRACE_PARENT, `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)), expect: {} },
    { name: 'a traceparent with a zero parent id', bytes: container(entry(OpenEntry.TRACE_PARENT, `00-${TRACE.slice(3, 35)}-${'0'.repeat(16)}-01`)), expect: {} },
    { name: 'a version 00 traceparent with a fifth field', bytes: container(entry(OpenEntry.TRACE_PARENT, `${TRACE}-x`)), expect: {} },
    { name: 'an empty traceparent', bytes: container(entry(OpenEntry.TRACE_PARENT, '')), expect: {} },
    { name: 'a traceparent of binary bytes', bytes: container(entry(OpenEntry.TRACE_PARENT, Buffer.from([0, 0xff, 0x80, 10]))), expect: {} },
    { name: 'a traceparent of 600 characters', bytes: container(entry(OpenEntry.TRACE_PARENT, `01-${TRACE.slice(3)}-${'x'.repeat(550)}`)), expect: {} },
    { name: 'a bad traceparent beside a protocol', bytes: container(entry(OpenEntry.TRACE_PARENT, 'nope'), entry(OpenEntry.PROTOCOL, 'ssh')), expect: { protocol: 'ssh' } },
    { name: 'a tracestate alone', bytes: container(entry(OpenEntry.TRACE_STATE, 'k=v')), expect: {} },
    { name: 'a tracestate with a bad traceparent', bytes: container(entry(OpenEntry.TRACE_PARENT, 'x'), entry(OpenEntry.TRACE_STATE, 'k=v')), expect: {} },
    { name: 'a tracestate of 33 members', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE), entry(OpenEntry.TRACE_STATE, long)), expect: { traceparent: TRACE } },
    { name: 'a tracestate of 600 characters', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE), entry(OpenEntry.TRACE_STATE, `k=${'v'.repeat(598)}`)), expect: { traceparent: TRACE } },
    { name: 'a tracestate with a control character', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE), entry(OpenEntry.TRACE_STATE, 'k=v\n')), expect: { traceparent: TRACE } },
    { name: 'an empty tracestate', bytes: container(entry(OpenEntry.TRACE_PARENT, TRACE), entry(OpenEntry.TRACE_STATE, '')), expect: { traceparent: TRACE } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(decodeOpenMetadata(c.bytes), c.expect);
    });
  }
});

describe('the trace context a relay reads and rewrites', () => {
  const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  test('readTraceContext finds it, and never throws', () => {
    assert.deepEqual(readTraceContext(encodeOpenMetadata({ traceparent: TRACE, tracestate: 'a=b', protocol: 'ssh' })), { traceparent: TRACE, tracestate: 'a=b' });
    assert.deepEqual(readTraceContext(Buffer.alloc(0)), {});
    assert.deepEqual(readTraceContext(Buffer.from('{"not":"a container"}')), {});
    assert.deepEqual(readTraceContext(container(entry(OpenEntry.TRACE_PARENT, 'garbage'))), {});
  });

  test('withTraceContext replaces the trace context and keeps every other entry byte for byte', () => {
    const future = entry(0x7001, 'future');
    const hello = entry(OpenEntry.HELLO, encodeNewHello(id, secret));
    const before = container(future, entry(OpenEntry.TRACE_PARENT, TRACE), hello, entry(OpenEntry.TRACE_STATE, 'a=b'));
    const after = withTraceContext(before, { traceparent: OTHER });
    assert.deepEqual(after, container(entry(OpenEntry.TRACE_PARENT, OTHER), future, hello));
    assert.deepEqual(decodeOpenMetadata(after), { traceparent: OTHER, hello: { kind: 'new', id, secret } });
  });

  test('withTraceContext adds a trace context to empty metadata, and takes it out again', () => {
    const added = withTraceContext(Buffer.alloc(0), { traceparent: OTHER, tracestate: 'x=y' });
    assert.deepEqual(decodeOpenMetadata(added), { traceparent: OTHER, tracestate: 'x=y' });
    assert.deepEqual(withTraceContext(added, {}), Buffer.alloc(0));
  });

  test('withTraceContext passes on what it cannot read, unchanged', () => {
    const cases = [Buffer.from([2, 0, 3, 0, 1, 0x61]), Buffer.from([1, 0, 1]), container(entry(OpenEntry.HELLO, 'x')), Buffer.from('junk')];
    for (const bytes of cases) assert.equal(withTraceContext(bytes, { traceparent: OTHER }), bytes);
  });

  test('withTraceContext drops an unusable new context instead of throwing', () => {
    const before = encodeOpenMetadata({ protocol: 'ssh', traceparent: TRACE });
    assert.deepEqual(decodeOpenMetadata(withTraceContext(before, { traceparent: 'bad', tracestate: 'a=b' })), { protocol: 'ssh' });
  });

  test('withTraceContext never grows metadata past the limit', () => {
    const full = container(entry(OpenEntry.KEY_EXCHANGE, Buffer.alloc(MAX_OPEN_METADATA_BYTES - 5 - 20)));
    assert.equal(withTraceContext(full, { traceparent: OTHER }), full);
  });
});
