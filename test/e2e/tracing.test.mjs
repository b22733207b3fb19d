// OpenTelemetry traces end to end, every party a real process: a relay, `tether share` and
// `tether connect`, each with --otlp pointing at a small OTLP/HTTP receiver here. One stream with
// real bytes makes one trace: connector → relay → host, each span the child of the one before.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { CLI, cleanEnv, createUser, HANG_GUARD, Processes, requirePrograms, run, startConnect, startRelay, startShare, tempDir } from './fixtures.mjs';

/** An OTLP/HTTP receiver (JSON, as the exporter sends it) on 127.0.0.1: every span, with its service. */
async function otlpReceiver() {
  const spans = [];
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !/json/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(415).end();
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      for (const rs of JSON.parse(text).resourceSpans ?? []) {
        const resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const attributes = Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
            spans.push({ service: resource['service.name'], resource, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, attributes });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${server.address().port}`, spans, bodies, close: () => new Promise((r) => server.close(r)) };
}

async function until(condition, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tracing across connector, relay and host', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('one stream with real bytes is one trace: tether.connect.open → tether.open → tether.host.accept', async () => {
    requirePrograms();
    const receiver = await otlpReceiver();
    procs.defer(() => receiver.close());
    // Batches go out every 100 ms instead of 5 s (the SDK's own variable), so the test need not wait.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    const relay = await startRelay(procs, tmp.path, { args: ['--otlp', receiver.url, '--node-id', 'trace-node'] });
    assert.match(relay.proc.stderr.text, /Traces sent to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);
    const token = await createUser(relay, 'tracy');

    const target = net.createServer((s) => s.on('error', () => undefined).pipe(s));
    target.listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
    procs.defer(() => new Promise((r) => target.close(r)));
    await startShare(procs, { url: relay.url, token, tunnel: 'traced', targetPort: target.address().port, args: ['--otlp', receiver.url] });
    const { port } = await startConnect(procs, { url: relay.url, token, tunnel: 'traced', args: ['--otlp', receiver.url] });

    const payload = 'tether-trace-payload-0123456789';
    const echoed = await new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d) => {
        text += d;
        if (text.length >= payload.length) socket.end();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write(payload);
    });
    assert.equal(echoed, payload);

    const one = (name) => receiver.spans.filter((s) => s.name === name);
    await until(() => one('tether.connect.open').length === 1 && one('tether.open').length === 1 && one('tether.host.accept').length === 1, 'the three spans of the open');
    const [connect] = one('tether.connect.open');
    const [routed] = one('tether.open');
    const [accept] = one('tether.host.accept');

    assert.equal(connect.service, 'tether-cli');
    assert.equal(routed.service, 'tether-relay');
    assert.equal(routed.resource['tether.node.id'], 'trace-node');
    assert.equal(accept.service, 'tether-cli');

    assert.equal(routed.traceId, connect.traceId, 'one trace');
    assert.equal(accept.traceId, connect.traceId, 'one trace');
    assert.equal(connect.parentSpanId, undefined, 'the connector starts the trace');
    assert.equal(routed.parentSpanId, connect.spanId, "the relay's span is the connector's child");
    assert.equal(accept.parentSpanId, routed.spanId, "the host's span is the relay's child");

    assert.equal(connect.attributes['tether.tunnel'], 'traced');
    assert.equal(connect.attributes['tether.outcome'], 'ok');
    assert.deepEqual(
      { tunnel: routed.attributes['tether.tunnel'], role: routed.attributes['tether.role'], node: routed.attributes['tether.node.id'], outcome: routed.attributes['tether.outcome'], route: routed.attributes['tether.route'] },
      { tunnel: 'traced', role: 'connector', node: 'trace-node', outcome: 'ok', route: 'local' },
    );
    assert.equal(accept.attributes['tether.outcome'], 'ok');
    assert.equal(accept.attributes['tether.target'], `127.0.0.1:${target.address().port}`);

    // The WebSocket upgrades of share and connect, and the API call connect makes first.
    await until(() => receiver.spans.filter((s) => s.name === 'tether.ws.upgrade').length >= 2, 'the upgrade spans');
    assert.ok(receiver.spans.some((s) => s.service === 'tether-relay' && s.name.startsWith('GET /v1/tunnels')), receiver.spans.map((s) => s.name).join(', '));
    // No payload and no token anywhere in what was exported.
    const exported = receiver.bodies.join('\n');
    assert.ok(!exported.includes(payload), 'no payload in the spans');
    assert.ok(!exported.includes(token), 'no token in the spans');
  });

  test('tether proxy traces its open too, turned on by OTEL_EXPORTER_OTLP_ENDPOINT alone, and prints nothing about it', async () => {
    requirePrograms();
    const receiver = await otlpReceiver();
    procs.defer(() => receiver.close());
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    const relay = await startRelay(procs, tmp.path, { dataDir: `${tmp.path}/relay-proxy`, args: ['--otlp', receiver.url] });
    const token = await createUser(relay, 'proxied');
    const target = net.createServer((s) => s.on('error', () => undefined).pipe(s));
    target.listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
    procs.defer(() => new Promise((r) => target.close(r)));
    await startShare(procs, { url: relay.url, token, tunnel: 'proxied', targetPort: target.address().port, args: ['--otlp', receiver.url] });
    const input = `${tmp.path}/proxy-input`;
    writeFileSync(input, 'through the proxy\n');
    const r = await run(process.execPath, [CLI, 'proxy', 'proxied'], { env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: token, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }), input });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'through the proxy\n');
    assert.equal(r.stderr, '', 'a ProxyCommand prints nothing about tracing');
    await until(() => receiver.spans.some((s) => s.name === 'tether.connect.open') && receiver.spans.some((s) => s.name === 'tether.host.accept'), 'the proxy\'s and the host\'s spans');
    const [connect] = receiver.spans.filter((s) => s.name === 'tether.connect.open');
    const routed = receiver.spans.find((s) => s.name === 'tether.open' && s.traceId === connect.traceId);
    assert.ok(routed, 'the relay joined the proxy\'s trace');
    assert.equal(routed.parentSpanId, connect.spanId);
    assert.equal(receiver.spans.find((s) => s.name === 'tether.host.accept').parentSpanId, routed.spanId);
  });

  test('spans still buffered are sent when each process stops (SIGTERM)', async () => {
    requirePrograms();
    const receiver = await otlpReceiver();
    procs.defer(() => receiver.close());
    // Batches would wait a minute: only the flush on shutdown can deliver them in time.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    const relay = await startRelay(procs, tmp.path, { dataDir: `${tmp.path}/relay-flush`, args: ['--otlp', receiver.url] });
    const token = await createUser(relay, 'flush');
    const target = net.createServer((s) => s.on('error', () => undefined).end('bye\n'));
    target.listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
    procs.defer(() => new Promise((r) => target.close(r)));
    const share = await startShare(procs, { url: relay.url, token, tunnel: 'flushed', targetPort: target.address().port, args: ['--otlp', receiver.url] });
    const connect = await startConnect(procs, { url: relay.url, token, tunnel: 'flushed', args: ['--otlp', receiver.url] });
    const text = await new Promise((resolve) => {
      const socket = net.connect(connect.port, '127.0.0.1');
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (d) => (got += d));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(got));
    });
    assert.equal(text, 'bye\n');
    assert.equal(receiver.spans.filter((s) => s.name.startsWith('tether.')).length, 0, 'nothing sent before the processes stop');
    assert.equal(await procs.stop(connect.proc, 'SIGTERM'), 0);
    assert.equal(await procs.stop(share, 'SIGTERM'), 0);
    assert.equal(await procs.stop(relay.proc, 'SIGTERM'), 0);
    const names = receiver.spans.map((s) => s.name);
    for (const name of ['tether.connect.open', 'tether.open', 'tether.host.accept', 'tether.ws.upgrade']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.equal(new Set(receiver.spans.filter((s) => s.name !== 'tether.ws.upgrade' && s.name.startsWith('tether.')).map((s) => s.traceId)).size, 1, 'one trace');
  });
});
