import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endToEnd, originRequestHeaders, withoutRelayCookies } from './forward-headers.js';

test('hop-by-hop fields, those named in Connection and pseudo-headers are dropped', () => {
  const out = endToEnd({ connection: 'X-A, keep-alive', 'x-a': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', upgrade: 'h2c', te: 'trailers', 'proxy-authorization': 'x', ':path': '/', accept: '*/*', 'x-b': undefined });
  assert.deepEqual(out, { accept: '*/*' });
  assert.deepEqual(endToEnd({ te: 'trailers' }, ['te']), { te: 'trailers' });
});

test('the relay cookie is taken out of Cookie, others kept', () => {
  assert.equal(withoutRelayCookies('a=1; tether_session=xyz; b=2'), 'a=1; b=2');
  assert.equal(withoutRelayCookies(['tether_session=xyz']), undefined);
  assert.equal(withoutRelayCookies(undefined), undefined);
});

test('the origin learns the client address, scheme and host; claims of the client are replaced; the relay credentials are removed', () => {
  const headers = originRequestHeaders(
    { host: 'web.example', authorization: 'Bearer tth_x', 'tether-access-token': 't', cookie: 'tether_session=s', 'x-forwarded-for': '6.6.6.6', forwarded: 'for=evil', 'x-real-ip': '1.1.1.1', te: 'trailers' },
    { address: '::ffff:10.0.0.7', proto: 'https', host: 'web.example' },
    { stripAuthorization: true, keepTe: true },
  );
  assert.deepEqual(headers, {
    host: 'web.example',
    te: 'trailers',
    'x-forwarded-for': '10.0.0.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'web.example',
    forwarded: 'for=10.0.0.7;proto=https;host="web.example"',
  });
  const v6 = originRequestHeaders({ authorization: 'Basic eA==' }, { address: '2001:db8::1', proto: 'http', host: 'a"b' }, { stripAuthorization: false });
  assert.equal(v6.forwarded, 'for="[2001:db8::1]";proto=http;host="ab"');
  assert.equal(v6.authorization, 'Basic eA==', "the service's own credentials pass");
  assert.equal(v6.te, undefined);
});
