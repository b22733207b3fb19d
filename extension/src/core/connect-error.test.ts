import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createError, ErrorCode, isTetherError, type ErrorCodeString } from '@tether/shared';
import { describeConnectError, describeForeignAnswer } from './connect-error.js';
import { probeHealth } from './health-probe.js';
import { RelayApi } from './relay-api.js';
import { connectRelaySession } from './relay-session.js';

const URL_ = 'http://127.0.0.1:8080';
const TLS_URL = 'https://127.0.0.1:8080';

/** An error as Node, undici or ws raise it: the fields these libraries set (shapes measured on Node 20). */
const errno = (code: string, message = code, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { code, ...extra });
/** fetch's wrapping: TypeError "fetch failed" with the real error as `cause`. */
const viaFetch = (cause: Error): Error => new TypeError('fetch failed', { cause });

describe('describeConnectError', () => {
  const cases: [what: string, err: unknown, url: string, message: string, code?: string][] = [
    [
      'an SSH server (node:http parser)',
      errno('HPE_INVALID_CONSTANT', 'Parse Error: Expected HTTP/', { rawPacket: Buffer.from('SSH-2.0-OpenSSH_9.2\r\n') }),
      URL_,
      `${URL_} is not a Tether relay (it is an SSH server); check the relay URL`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'an SSH server (fetch)',
      viaFetch(Object.assign(errno('HPE_INVALID_CONSTANT', 'Response does not match the HTTP/1.1 protocol'), { data: 'SSH-2.0-OpenSSH_9.2\r\n' })),
      URL_,
      `${URL_} is not a Tether relay (it is an SSH server); check the relay URL`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'another protocol',
      errno('HPE_INVALID_CONSTANT', 'Parse Error', { rawPacket: Buffer.from('220 smtp ready\r\n') }),
      URL_,
      `${URL_} is not a Tether relay (it answered with something that is not HTTP); check the relay URL`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'https to a plain relay (fetch)',
      viaFetch(errno('ERR_SSL_WRONG_VERSION_NUMBER', '80EC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl3_record.c:350:\n')),
      TLS_URL,
      `${TLS_URL} does not speak TLS; use http:// (or ws://) for this relay`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'wss to a plain relay (ws)',
      errno('EPROTO', 'write EPROTO 80EC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl3_record.c:350:\n'),
      TLS_URL,
      `${TLS_URL} does not speak TLS; use http:// (or ws://) for this relay`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'another TLS failure',
      errno('EPROTO', 'write EPROTO 80EC:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../rec_layer_s3.c:1586:\n'),
      TLS_URL,
      `the TLS handshake with ${TLS_URL} failed (sslv3 alert handshake failure); check that the relay URL's scheme and port are the relay's`,
    ],
    [
      'a self-signed certificate',
      viaFetch(errno('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')),
      TLS_URL,
      `the TLS certificate of ${TLS_URL} is not trusted (self-signed certificate); if the relay's certificate is self-signed or from a private CA, start with NODE_EXTRA_CA_CERTS set to that certificate's PEM file`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'an expired certificate',
      errno('CERT_HAS_EXPIRED', 'certificate has expired'),
      TLS_URL,
      `the TLS certificate of ${TLS_URL} is expired; the relay needs a current certificate (or this machine's clock is wrong)`,
    ],
    [
      'a certificate for another name',
      errno('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      TLS_URL,
      `the TLS certificate of ${TLS_URL} is not for 127.0.0.1; use a host name the certificate names in the relay URL`,
      ErrorCode.RELAY_REJECTED,
    ],
    [
      'connection refused',
      viaFetch(errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8080')),
      URL_,
      `nothing listens at ${URL_} (connection refused); check that the relay is running and the relay URL`,
    ],
    [
      'a misspelt host',
      errno('ENOTFOUND', 'getaddrinfo ENOTFOUND relay.exampel.com'),
      'http://relay.exampel.com:8080',
      'host relay.exampel.com not found (no DNS entry); check the relay URL',
    ],
    [
      'DNS not answering',
      errno('EAI_AGAIN', 'getaddrinfo EAI_AGAIN relay.example.com'),
      'http://relay.example.com:8080',
      "cannot look up host relay.example.com (DNS did not answer); check this machine's network",
    ],
    [
      'no route to the host',
      errno('EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.9:8080'),
      'http://10.0.0.9:8080',
      "no route to 10.0.0.9 (host unreachable); check the relay URL and this machine's network or VPN",
    ],
    [
      'no route to the network (IPv6)',
      errno('ENETUNREACH', 'connect ENETUNREACH'),
      'http://[2001:db8::1]:8080',
      "no route to 2001:db8::1 (network unreachable); check the relay URL and this machine's network or VPN",
    ],
    [
      'a connect timeout',
      errno('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.9:8080'),
      'http://10.0.0.9:8080',
      'http://10.0.0.9:8080 did not accept the connection in time; check the relay URL, and that no firewall blocks it',
    ],
    [
      'a reset during the handshake over http',
      errno('ECONNRESET', 'socket hang up'),
      URL_,
      `${URL_} closed the connection without answering; if the relay uses TLS, use https:// (or wss://), otherwise check that it is a Tether relay`,
    ],
    [
      'undici: other side closed, over https',
      viaFetch(errno('UND_ERR_SOCKET', 'other side closed')),
      TLS_URL,
      `${TLS_URL} closed the connection without answering; check that it is a Tether relay`,
    ],
    [
      "fetch's timeout",
      Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError', code: 23 }),
      URL_,
      `${URL_} did not answer within 10 s; check the relay URL, and that the relay is running`,
    ],
    [
      "ws's handshake timeout",
      new Error('Opening handshake has timed out'),
      URL_,
      `${URL_} did not answer within 10 s; check the relay URL, and that the relay is running`,
    ],
    [
      "fetch's bad port",
      viaFetch(new Error('bad port')),
      'http://127.0.0.1:6000',
      'http://127.0.0.1:6000 uses a port reserved for another protocol, which no relay listens on; check the relay URL',
    ],
    ['anything else keeps its code', errno('EMFILE', 'too many open files'), URL_, `cannot reach relay at ${URL_}: EMFILE`],
    ['no code at all keeps its message', new Error('something odd'), URL_, `cannot reach relay at ${URL_}: something odd`],
  ];
  for (const [what, err, url, message, code = ErrorCode.RELAY_UNREACHABLE] of cases) {
    test(`${what}: ${code === ErrorCode.RELAY_REJECTED ? 'RELAY_REJECTED (final: the URL must change)' : 'RELAY_UNREACHABLE'} with a sentence`, () => {
      const described = describeConnectError(err, url, 10_000);
      assert.equal(described.code, code);
      assert.equal(described.message, message);
    });
  }

  test('a TetherError is passed on as it is', () => {
    const err = createError(ErrorCode.UNAUTHORIZED, 'no');
    assert.equal(describeConnectError(err, URL_), err);
  });
});

describe('describeForeignAnswer', () => {
  const asked = { url: URL_, request: 'GET /v1/tunnels' };
  const upgrade = { url: URL_, request: 'GET /v1/connect', upgrade: true };
  const cases: [what: string, status: number, body: string, a: typeof upgrade | typeof asked, code: ErrorCodeString, message: string][] = [
    ['a 404 from a web server', 404, 'Not Found', asked, ErrorCode.RELAY_REJECTED, `${URL_} is not a Tether relay (it answered HTTP 404 Not Found to GET /v1/tunnels); check the relay URL`],
    ['an HTML page', 200, '<!DOCTYPE html><html></html>', asked, ErrorCode.RELAY_REJECTED, `${URL_} is not a Tether relay (it answered GET /v1/tunnels with an HTML page that is not JSON); check the relay URL`],
    ['a page for the upgrade', 200, '<html></html>', upgrade, ErrorCode.RELAY_REJECTED, `${URL_} is not a Tether relay (it answered the WebSocket upgrade with HTTP 200 OK); check the relay URL`],
    ['426 from a WebSocket-only server', 426, '', asked, ErrorCode.RELAY_REJECTED, `${URL_} is not a Tether relay (it answered HTTP 426 Upgrade Required to GET /v1/tunnels); check the relay URL`],
    [
      "a proxy's 502",
      502,
      '<html>Bad Gateway</html>',
      asked,
      ErrorCode.RELAY_REJECTED,
      `${URL_} answered GET /v1/tunnels with HTTP 502 Bad Gateway and no Tether error: it is not a Tether relay, or a proxy in front of the relay cannot reach it; check the relay URL and that the relay is running`,
    ],
    [
      "a proxy's 401",
      401,
      'Unauthorized',
      asked,
      ErrorCode.UNAUTHORIZED,
      `${URL_} refused the token (HTTP 401 without a Tether error: a proxy in front of the relay?); check the token and the relay URL`,
    ],
  ];
  for (const [what, status, body, a, code, message] of cases) {
    test(`${what} → ${code}`, () => {
      const err = describeForeignAnswer(status, body, a);
      assert.equal(err.code, code);
      assert.equal(err.message, message);
    });
  }
});

/**
 * The same translations on real sockets, through each of the three clients (fetch, ws and
 * node:http): the shapes of their errors are what the table above assumes.
 */
describe('real sockets', () => {
  const servers: net.Server[] = [];
  let ssh = '';
  let closer = '';
  let refused = '';

  const listen = async (onConnection: (socket: net.Socket) => void): Promise<string> => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      onConnection(socket);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  };

  before(async () => {
    ssh = await listen((socket) => socket.write('SSH-2.0-OpenSSH_9.2\r\n'));
    // Reads the request, then hangs up without a word (what a TLS server does to plain HTTP).
    closer = await listen((socket) => socket.once('data', () => socket.end()));
    refused = await listen(() => undefined);
    const last = servers.pop()!;
    last.close();
    await once(last, 'close');
  });
  after(() => {
    for (const server of servers) server.close();
  });

  const clients: [name: string, attempt: (url: string) => Promise<unknown>][] = [
    ['fetch (RelayApi)', (url) => new RelayApi(url, 'token-0123456789').tunnels()],
    ['ws (connectRelaySession)', (url) => connectRelaySession({ relay: url, token: 'token-0123456789', endpoint: 'connect' })],
    ['node:http (probeHealth)', (url) => probeHealth(url, 2000)],
  ];
  for (const [name, attempt] of clients) {
    test(`${name}: an SSH server, a server that hangs up, nothing listening`, async () => {
      const expect = async (url: string, message: string, code: string = ErrorCode.RELAY_UNREACHABLE): Promise<void> => {
        await assert.rejects(attempt(url), (err) => isTetherError(err) && err.code === code && err.message === message);
      };
      await expect(ssh, `${ssh} is not a Tether relay (it is an SSH server); check the relay URL`, ErrorCode.RELAY_REJECTED);
      await expect(closer, `${closer} closed the connection without answering; if the relay uses TLS, use https:// (or wss://), otherwise check that it is a Tether relay`);
      await expect(refused, `nothing listens at ${refused} (connection refused); check that the relay is running and the relay URL`);
      await expect(ssh.replace('http:', 'https:'), `${ssh.replace('http:', 'https:')} does not speak TLS; use http:// (or ws://) for this relay`, ErrorCode.RELAY_REJECTED);
    });
  }
});
