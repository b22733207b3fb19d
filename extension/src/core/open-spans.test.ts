import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { decodeOpenMetadata, encodeOpenMetadata, ErrorCode, parseTraceparent, WireCode, type MuxSession, type OpenTraceContext } from '@tether/shared';
import { Connector } from './connector.js';
import { HostAgent } from './host-agent.js';
import { closedPort, listening, memoryRelay } from '../test-support/testing.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.on('error', () => undefined).pipe(socket));
after(async () => {
  echo.close();
  await provider.shutdown();
});
const spansNamed = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
};

for (const resumable of [true, false]) {
  test(`the connector's span of a ${resumable ? 'resumable' : 'plain'} open rides in its OPEN metadata and ends with the outcome`, async () => {
    exporter.reset();
    const seen: OpenTraceContext[] = [];
    const relay = memoryRelay((stream, tunnel, request) => {
      const { traceparent, tracestate } = decodeOpenMetadata(request.metadata);
      seen.push({ traceparent, tracestate });
      if (tunnel === 'box') stream.accept();
      else stream.reject(WireCode.TUNNEL_OFFLINE, 'offline');
    });
    const connector = new Connector(relay.factory, { tracer, ...(resumable ? {} : { resumable: false }) });
    after(() => connector.close());
    await connector.open('box');
    await assert.rejects(connector.open('gone'), { code: ErrorCode.TUNNEL_OFFLINE });
    const [ok, failed] = spansNamed('tether.connect.open');
    assert.deepEqual(ok.attributes, { 'tether.tunnel': 'box', 'tether.resumable': resumable, 'tether.outcome': 'ok' });
    assert.equal(ok.parentSpanContext, undefined, 'the root of its trace');
    assert.equal(parseTraceparent(seen[0].traceparent)?.spanId, ok.spanContext().spanId);
    assert.equal(parseTraceparent(seen[0].traceparent)?.traceId, ok.spanContext().traceId);
    assert.equal(failed.attributes['tether.outcome'], 'failed');
    assert.equal(failed.attributes['tether.error.code'], ErrorCode.TUNNEL_OFFLINE);
    assert.equal(failed.attributes['tether.wire_code'], WireCode.TUNNEL_OFFLINE);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
  });
}

test('without a tracer the connector sends no trace context', async () => {
  const metadata: Buffer[] = [];
  const relay = memoryRelay((stream, _tunnel, request) => {
    metadata.push(request.metadata);
    stream.accept();
  });
  const connector = new Connector(relay.factory, { resumable: false });
  after(() => connector.close());
  await connector.open('box');
  assert.deepEqual(metadata, [Buffer.alloc(0)]);
});

async function openOn(peer: MuxSession, metadata: Buffer): Promise<void> {
  const stream = peer.openStream('box', metadata);
  await new Promise<void>((resolve) => {
    stream.once('open', () => resolve());
    stream.once('close', () => resolve());
  });
}

test("the host's span continues the relay's, and ends with the target's answer", async () => {
  exporter.reset();
  const echoPort = await listening(echo);
  const refused = await closedPort();
  const relaySpan = '1111222233334444';
  const traceId = 'abcdefabcdefabcdefabcdefabcdef12';
  const relay = memoryRelay();
  const good = new HostAgent({ tunnel: 'box', target: { host: '127.0.0.1', port: echoPort }, factory: relay.factory, tracer });
  await good.start();
  after(() => good.stop(0));
  await openOn(relay.peers[0], encodeOpenMetadata({ traceparent: `00-${traceId}-${relaySpan}-01` }));
  // A bad traceparent is ignored: the span starts a trace of its own, the stream is served.
  await openOn(relay.peers[0], Buffer.from([1, 0, 2, 0, 3, 0x61, 0x62, 0x63]));
  const badRelay = memoryRelay();
  const refusing = new HostAgent({ tunnel: 'box', target: { host: '127.0.0.1', port: refused }, factory: badRelay.factory, tracer });
  await refusing.start();
  after(() => refusing.stop(0));
  await openOn(badRelay.peers[0], encodeOpenMetadata({ traceparent: `00-${traceId}-${relaySpan}-01` }));
  await until(() => spansNamed('tether.host.accept').length === 3);
  const [accepted, untraced, refusedSpan] = spansNamed('tether.host.accept');
  assert.equal(accepted.spanContext().traceId, traceId);
  assert.equal(accepted.parentSpanContext?.spanId, relaySpan);
  assert.deepEqual(accepted.attributes, { 'tether.tunnel': 'box', 'tether.target': `127.0.0.1:${echoPort}`, 'tether.outcome': 'ok' });
  assert.equal(untraced.parentSpanContext, undefined);
  assert.equal(untraced.attributes['tether.outcome'], 'ok');
  assert.equal(refusedSpan.attributes['tether.outcome'], 'failed');
  assert.equal(refusedSpan.attributes['tether.error.code'], ErrorCode.TARGET_REFUSED);
  assert.equal(refusedSpan.attributes['tether.wire_code'], WireCode.TARGET_REFUSED);
});
