import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { DEFAULT_SNIFF_BOUND, describeSniff, ProtocolSniffer, sniffProtocol, type SniffResult } from './protocol-sniff.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The first bytes a real client sends to a local server that records them and answers nothing. */
async function capture(connect: (port: number) => { destroy(): void }, enough: (b: Buffer) => boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let done!: (b: Buffer) => void;
  const got = new Promise<Buffer>((resolve) => (done = resolve));
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (enough(all)) done(all);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as net.AddressInfo).port);
  try {
    return await got;
  } finally {
    client.destroy();
    server.close();
  }
}

/** A TLS first flight is whole when its handshake records hold the ClientHello's declared length. */
function wholeClientHello(b: Buffer): boolean {
  if (b.length < 9) return false;
  return b.length >= 5 + 4 + b.readUIntBE(6, 3);
}

function tlsHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return capture((port) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.on('error', () => undefined);
    return socket;
  }, wholeClientHello);
}

/** A ClientHello built by hand: `extensions` is [type, data][]. */
function buildClientHello(extensions: [number, Buffer][]): Buffer {
  const ext = Buffer.concat(extensions.map(([type, data]) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(type, 0);
    head.writeUInt16BE(data.length, 2);
    return Buffer.concat([head, data]);
  }));
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(ext.length);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), Buffer.from([0, 2, 0x13, 0x01]), Buffer.from([1, 0]), extLen, ext]);
  const hs = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return hs;
}

/** Handshake bytes in TLS records of at most `size` bytes each. */
function records(handshake: Buffer, size = 16384): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const part = handshake.subarray(at, at + size);
    out.push(Buffer.from([0x16, 3, 1, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(out);
}

function sniExt(name: string): Buffer {
  const n = latin1(name);
  const b = Buffer.alloc(5);
  b.writeUInt16BE(n.length + 3, 0);
  b[2] = 0;
  b.writeUInt16BE(n.length, 3);
  return Buffer.concat([b, n]);
}

function alpnExt(names: string[]): Buffer {
  const list = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([n.length]), latin1(n)])));
  const head = Buffer.alloc(2);
  head.writeUInt16BE(list.length);
  return Buffer.concat([head, list]);
}

/** Feeds `bytes` in chunks of `size` and returns the decision and after how many bytes it came. */
function feed(bytes: Buffer, size: number, bound = DEFAULT_SNIFF_BOUND): { result: SniffResult | undefined; at: number } {
  const sniffer = new ProtocolSniffer(bound);
  for (let at = 0; at < bytes.length; at += size) {
    const result = sniffer.push(bytes.subarray(at, at + size));
    if (result) return { result, at: Math.min(bytes.length, at + size) };
  }
  return { result: sniffer.result, at: bytes.length };
}

const SSH_BANNER = latin1('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
const H2_PREFACE = latin1('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const hello = records(buildClientHello([[0, sniExt('Example.COM')], [16, alpnExt(['h2', 'http/1.1'])]]));

const cases: [string, Buffer, SniffResult][] = [
  ['the banner of OpenSSH 9.2 on Debian 12, as ssh sends it', SSH_BANNER, { protocol: 'ssh', sshVersion: 'OpenSSH_9.2p1 Debian-2+deb12u3' }],
  ['an SSH banner ended by LF alone', latin1('SSH-2.0-dropbear_2022.83\n'), { protocol: 'ssh', sshVersion: 'dropbear_2022.83' }],
  ['an SSH 1.99 banner', latin1('SSH-1.99-Cisco-1.25\r\n'), { protocol: 'ssh', sshVersion: 'Cisco-1.25' }],
  ['an SSH banner with the key exchange behind it', Buffer.concat([SSH_BANNER, Buffer.from([0, 0, 5, 0xdc, 4, 20])]), { protocol: 'ssh', sshVersion: 'OpenSSH_9.2p1 Debian-2+deb12u3' }],
  ['an SSH banner with control bytes in its version', latin1('SSH-2.0-evil\x1b[31m\r\n'), { protocol: 'ssh' }],
  ['a ClientHello with SNI (lower-cased) and ALPN', hello, { protocol: 'tls', sni: 'example.com', alpn: ['h2', 'http/1.1'] }],
  ['a ClientHello without extensions', records(buildClientHello([])), { protocol: 'tls' }],
  ['a ClientHello whose SNI is not a host name', records(buildClientHello([[0, sniExt('a b')]])), { protocol: 'tls' }],
  ['a ClientHello split over records of 100 bytes', records(buildClientHello([[0, sniExt('split.example')], [21, Buffer.alloc(600)]]), 100), { protocol: 'tls', sni: 'split.example' }],
  ['a ClientHello with extensions cut short', records(buildClientHello([[0, sniExt('x.example').subarray(0, 4)]])), { protocol: 'tls' }],
  ['an HTTP/1.1 GET', latin1('GET /secret/path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n'), { protocol: 'http1', method: 'GET' }],
  ['an HTTP/1.0 POST', latin1('POST / HTTP/1.0\r\n'), { protocol: 'http1', method: 'POST' }],
  ['a CONNECT', latin1('CONNECT example.com:443 HTTP/1.1\r\n\r\n'), { protocol: 'http1', method: 'CONNECT' }],
  ['a WebDAV method with LF alone', latin1('PROPFIND /dav HTTP/1.1\n'), { protocol: 'http1', method: 'PROPFIND' }],
  ['the HTTP/2 preface', H2_PREFACE, { protocol: 'h2' }],
  ['the HTTP/2 preface and a SETTINGS frame', Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]), { protocol: 'h2' }],
  ['a PRI line that is not the preface', latin1('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'), { protocol: 'unknown' }],
  ['HTTP/0.9', latin1('GET /\r\n'), { protocol: 'unknown' }],
  ['HTTP/3 on a stream', latin1('GET / HTTP/3\r\n'), { protocol: 'unknown' }],
  ['a lower-case method', latin1('get / HTTP/1.1\r\n'), { protocol: 'unknown' }],
  ['a Redis command', latin1('*1\r\n$4\r\nPING\r\n'), { protocol: 'unknown' }],
  ['a PostgreSQL startup message', Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]), { protocol: 'unknown' }],
  ['a TLS alert record', Buffer.from([0x15, 3, 3, 0, 2, 2, 40]), { protocol: 'unknown' }],
  ['a TLS handshake record that is not a ClientHello', Buffer.from([0x16, 3, 3, 0, 4, 2, 0, 0, 0]), { protocol: 'unknown' }],
  ['an SSLv2-style hello', Buffer.from([0x80, 0x2e, 1, 3, 1]), { protocol: 'unknown' }],
];

test('each kind of first flight is classified, whole and byte by byte, with its fields', () => {
  for (const [name, bytes, expected] of cases) {
    assert.deepEqual(sniffProtocol(bytes), expected, `${name}, whole`);
    const byByte = feed(bytes, 1);
    assert.deepEqual(byByte.result ?? new ProtocolSniffer().finish(), expected, `${name}, byte by byte`);
  }
});

test('the decision comes as soon as the bytes allow', () => {
  const table: [string, Buffer, number][] = [
    ['ssh: at the end of the banner line', Buffer.concat([SSH_BANNER, Buffer.alloc(100)]), SSH_BANNER.length],
    ['h2: at the end of the preface', Buffer.concat([H2_PREFACE, Buffer.alloc(100)]), H2_PREFACE.length],
    ['http1: at the end of the request line', latin1('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 16],
    ['tls: at the end of the ClientHello', Buffer.concat([hello, Buffer.alloc(100)]), hello.length],
    ['unknown: at the first byte nothing can begin with', latin1('\x00\x01\x02'), 1],
    ['unknown: where the method stops being one', latin1('GET\x00 / HTTP/1.1\r\n'), 4],
    ['unknown: where the SSH prefix breaks', latin1('SSH-3.0-x\r\n'), 5],
  ];
  for (const [name, bytes, at] of table) assert.equal(feed(bytes, 1).at, at, name);
});

test('bytes that still could be something are undecided until the bound, then unknown', () => {
  const sniffer = new ProtocolSniffer(1024);
  assert.equal(sniffer.push(latin1('GET /')), undefined);
  assert.equal(sniffer.push(Buffer.alloc(500, 0x61)), undefined);
  assert.equal(sniffer.held.toString('latin1'), `GET /${'a'.repeat(500)}`);
  assert.deepEqual(sniffer.push(Buffer.alloc(600, 0x61)), { protocol: 'unknown' });
  // Decided: the rest is not looked at.
  assert.deepEqual(sniffer.push(latin1(' HTTP/1.1\r\n')), { protocol: 'unknown' });
  // A ClientHello too large for the bound is TLS all the same, without its fields.
  const big = records(buildClientHello([[0, sniExt('big.example')], [21, Buffer.alloc(3000)]]));
  assert.deepEqual(sniffProtocol(big, 1024), { protocol: 'tls' });
  // A banner line longer than SSH allows is SSH with its version cut.
  const long = sniffProtocol(latin1(`SSH-2.0-${'v'.repeat(400)}`));
  assert.equal(long.protocol, 'ssh');
  assert.equal(long.sshVersion?.length, 255 - 'SSH-2.0-'.length);
});

test('a stream that ends before deciding is what its bytes say, or unknown', () => {
  const ended = (bytes: string): SniffResult => {
    const s = new ProtocolSniffer();
    s.push(latin1(bytes));
    return s.finish();
  };
  assert.deepEqual(ended('SSH-2.0-Open'), { protocol: 'unknown' });
  assert.deepEqual(ended('GET / HTTP/1.1'), { protocol: 'unknown' });
  assert.deepEqual(new ProtocolSniffer().finish(), { protocol: 'unknown' });
});

test('the first chunk that decides is not copied; undecided bytes are kept within the bound', () => {
  const sniffer = new ProtocolSniffer(64);
  assert.deepEqual(sniffer.push(SSH_BANNER), { protocol: 'ssh', sshVersion: 'OpenSSH_9.2p1 Debian-2+deb12u3' });
  assert.equal(sniffer.held.length, 0);
  const slow = new ProtocolSniffer(64);
  slow.push(latin1('GET /'));
  slow.push(Buffer.alloc(100, 0x61));
  assert.equal(slow.held.length, 64);
  assert.deepEqual(slow.result, { protocol: 'unknown' });
});

test('real captures: node:tls ClientHellos (TLS 1.3 and 1.2) and the node:http2 preface', async () => {
  const modern = await tlsHello({ servername: 'db.example.org', ALPNProtocols: ['h2', 'http/1.1'] });
  assert.deepEqual(sniffProtocol(modern), { protocol: 'tls', sni: 'db.example.org', alpn: ['h2', 'http/1.1'] });
  assert.deepEqual(feed(modern, 7).result, { protocol: 'tls', sni: 'db.example.org', alpn: ['h2', 'http/1.1'] });
  const old = await tlsHello({ servername: 'legacy.example', maxVersion: 'TLSv1.2' });
  assert.deepEqual(sniffProtocol(old), { protocol: 'tls', sni: 'legacy.example' });
  // Node sends no SNI for an IP address.
  const byAddress = await tlsHello({});
  assert.deepEqual(sniffProtocol(byAddress), { protocol: 'tls' });

  const preface = await capture((port) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    return session;
  }, (b) => b.length >= 24);
  assert.deepEqual(sniffProtocol(preface), { protocol: 'h2' });
});

test('descriptions for people name the protocol and its telling field', () => {
  const table: [SniffResult, string][] = [
    [{ protocol: 'tls', sni: 'example.com', alpn: ['h2'] }, 'TLS (SNI example.com)'],
    [{ protocol: 'tls' }, 'TLS'],
    [{ protocol: 'http1', method: 'GET' }, 'HTTP/1.x (GET)'],
    [{ protocol: 'h2' }, 'HTTP/2'],
    [{ protocol: 'ssh', sshVersion: 'OpenSSH_9.2p1 Debian-2+deb12u3' }, 'SSH (OpenSSH_9.2p1)'],
    [{ protocol: 'unknown' }, 'no protocol the relay recognises'],
  ];
  for (const [result, text] of table) assert.equal(describeSniff(result), text);
});
