import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { decodeOpenMetadata, encodeOpen, encodeOpenErr, encodeOpenMetadata, encodeOpenOk, FrameType, parseTraceparent, WireCode } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, hostAndConnector, waitFor, HANG_GUARD, type TestRelay } from '../test-support/testing.js';
import { tracesUrl } from './otel-sdk.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CONNECTOR_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CONNECTOR_SPAN}-01`;

async function tracedRelay(t: TestContext): Promise<{ relay: TestRelay; spans: () => ReadableSpan[] }> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  t.after(() => provider.shutdown());
  const relay = await createTestRelay(t, {}, ':memory:', { tracer: provider.getTracer('test'), nodeId: 'node-t' });
  await relay.listen();
  return { relay, spans: () => exporter.getFinishedSpans() };
}

const named = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);

test('an accepted OPEN: a tether.open span, child of the connector\'s traceparent, handed on to the host', HANG_GUARD, async (t) => {
  const { relay, spans } = await tracedRelay(t);
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 65_536, 'web', encodeOpenMetadata({ traceparent: TRACEPARENT, tracestate: 'vendor=x', protocol: 'ssh' })));
  const open = await pair.host.nextOf(FrameType.OPEN);
  assert.equal(named(spans(), 'tether.open').length, 0, 'still open until answered');
  pair.host.send(encodeOpenOk(open.streamId, 65_536));
  await pair.connector.nextOf(FrameType.OPEN_OK, 1);
  await waitFor(() => named(spans(), 'tether.open').length === 1);
  const [span] = named(spans(), 'tether.open');
  assert.equal(span.spanContext().traceId, TRACE_ID);
  assert.equal(span.parentSpanContext?.spanId, CONNECTOR_SPAN);
  assert.equal(span.kind, SpanKind.SERVER);
  assert.deepEqual(span.attributes, { 'tether.tunnel': 'web', 'tether.role': 'connector', 'tether.node.id': 'node-t', 'tether.route': 'local', 'tether.outcome': 'ok' });
  // The host sees the relay's span as its parent; every other entry is as the connector sent it.
  const meta = decodeOpenMetadata(open.metadata);
  assert.deepEqual(parseTraceparent(meta.traceparent), { traceId: TRACE_ID, spanId: span.spanContext().spanId, flags: 1 });
  assert.equal(meta.tracestate, 'vendor=x');
  assert.equal(meta.protocol, 'ssh');
});

test('an OPEN without trace context starts a new trace, and the host still gets a traceparent', HANG_GUARD, async (t) => {
  const { relay, spans } = await tracedRelay(t);
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 65_536, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.host.send(encodeOpenOk(open.streamId, 65_536));
  await waitFor(() => named(spans(), 'tether.open').length === 1);
  const [span] = named(spans(), 'tether.open');
  assert.equal(span.parentSpanContext, undefined);
  assert.equal(parseTraceparent(decodeOpenMetadata(open.metadata).traceparent)?.spanId, span.spanContext().spanId);
});

test('a bad traceparent is ignored: the open goes through as a new trace', HANG_GUARD, async (t) => {
  const { relay, spans } = await tracedRelay(t);
  const pair = await hostAndConnector(relay);
  const bad = Buffer.from([1, 0, 2, 0, 5, ...Buffer.from('nope!')]);
  pair.connector.send(encodeOpen(1, 65_536, 'web', bad));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.host.send(encodeOpenOk(open.streamId, 65_536));
  await pair.connector.nextOf(FrameType.OPEN_OK, 1);
  await waitFor(() => named(spans(), 'tether.open').length === 1);
  assert.equal(named(spans(), 'tether.open')[0].parentSpanContext, undefined);
});

test('refusals end the span with their wire code: the relay\'s own and the host\'s', HANG_GUARD, async (t) => {
  const { relay, spans } = await tracedRelay(t);
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 65_536, 'nobody-has-this', encodeOpenMetadata({ traceparent: TRACEPARENT })));
  const refused = await pair.connector.nextOf(FrameType.OPEN_ERR, 1);
  pair.connector.send(encodeOpen(3, 65_536, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.host.send(encodeOpenErr(open.streamId, WireCode.TARGET_REFUSED, 'no'));
  await pair.connector.nextOf(FrameType.OPEN_ERR, 3);
  await waitFor(() => named(spans(), 'tether.open').length === 2);
  const [relayRefused, hostRefused] = named(spans(), 'tether.open');
  assert.equal(relayRefused.attributes['tether.outcome'], 'refused');
  assert.equal(relayRefused.attributes['tether.wire_code'], refused.code);
  assert.equal(relayRefused.status.code, SpanStatusCode.ERROR);
  assert.equal(relayRefused.spanContext().traceId, TRACE_ID);
  assert.equal(hostRefused.attributes['tether.outcome'], 'refused');
  assert.equal(hostRefused.attributes['tether.wire_code'], WireCode.TARGET_REFUSED);
});

test('an OPEN pending when its link goes ends as gone', HANG_GUARD, async (t) => {
  const { relay, spans } = await tracedRelay(t);
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 65_536, 'web'));
  await pair.host.nextOf(FrameType.OPEN);
  pair.connector.ws.terminate();
  await waitFor(() => named(spans(), 'tether.open').length === 1);
  assert.equal(named(spans(), 'tether.open')[0].attributes['tether.outcome'], 'gone');
});

test('HTTP requests and WebSocket upgrades have spans with the route, never the query', HANG_GUARD, async (t) => {
  const { relay, spans } = await tracedRelay(t);
  const res = await relay.app.inject({ method: 'GET', url: '/v1/tunnels?secret=shh', headers: { ...bearer(ADMIN_TOKEN), traceparent: TRACEPARENT } });
  assert.equal(res.statusCode, 200);
  await hostAndConnector(relay);
  await waitFor(() => named(spans(), 'tether.ws.upgrade').length === 2);
  const api = spans().find((s) => s.name === 'GET /v1/tunnels');
  assert.ok(api, spans().map((s) => s.name).join(', '));
  assert.equal(api.attributes['http.response.status_code'], 200);
  assert.equal(api.attributes['http.route'], '/v1/tunnels');
  assert.equal(api.spanContext().traceId, TRACE_ID, 'continues the caller\'s trace');
  assert.ok(!JSON.stringify(spans().map((s) => s.attributes)).includes('shh'));
  for (const upgrade of named(spans(), 'tether.ws.upgrade')) assert.equal(upgrade.attributes['http.response.status_code'], 101);
  const refused = await relay.app.inject({ method: 'GET', url: '/v1/tunnels' });
  assert.equal(refused.statusCode, 401);
  await waitFor(() => spans().filter((s) => s.name === 'GET /v1/tunnels').length === 2);
});

test('tracing is off unless asked for; --otlp and the OTEL_* variables name the traces URL', () => {
  assert.equal(tracesUrl(undefined, {}), undefined);
  assert.equal(tracesUrl('http://127.0.0.1:4318', {}), 'http://127.0.0.1:4318/v1/traces');
  assert.equal(tracesUrl('http://c:4318/otlp/', {}), 'http://c:4318/otlp/v1/traces');
  assert.equal(tracesUrl('http://c:4318/v1/traces', {}), 'http://c:4318/v1/traces');
  assert.equal(tracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318' }), 'https://c:4318/v1/traces');
  assert.equal(tracesUrl(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://d' }), 'http://c/custom');
  assert.equal(tracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_SDK_DISABLED: 'true' }), undefined);
  assert.equal(tracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_EXPORTER: 'none' }), undefined);
  for (const bad of ['ftp://c', 'not a url', '127.0.0.1:4318']) assert.throws(() => tracesUrl(bad, {}), { code: 'TETHER_ERR_INVALID_CONFIG' });
});

test('a relay without tracing loads nothing of the SDK or the exporter', HANG_GUARD, async () => {
  const { execFileSync } = await import('node:child_process');
  const script = `
    const { buildApp, startTracing } = require(${JSON.stringify(require.resolve('../index.js'))});
    (async () => {
      const tracing = await startTracing({ serviceName: 'tether-relay', env: {} });
      const relay = await buildApp({ databaseFile: ':memory:', adminToken: 'admin-token-for-tests-0001', logger: false });
      await relay.app.ready();
      await relay.app.close();
      const loaded = Object.keys(require.cache).filter((f) => /@opentelemetry\\/(sdk-|exporter-|otlp-|resources)/.test(f));
      process.stdout.write(JSON.stringify({ tracing: tracing === undefined ? null : 'on', loaded }));
    })();
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } })) as { tracing: null; loaded: string[] };
  assert.deepEqual(out, { tracing: null, loaded: [] });
});
