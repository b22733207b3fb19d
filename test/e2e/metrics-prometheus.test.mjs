// Prometheus metrics against a real scraper: Debian's prometheus scrapes a real `tether relay`
// twice, on its unauthenticated --metrics-port listener and on the main port with the admin
// token as a bearer token (the two ways docs/metrics.md describes), while bytes flow through a
// real `tether share` and `tether connect`. The test polls Prometheus's query API until the
// stream and byte counters show the traffic; nothing waits a fixed time.
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUser, echoServer, echoThrough, freePort, HANG_GUARD, Processes, startConnect, startRelay, startShare, tempDir, until } from './fixtures.mjs';

const PROMETHEUS = '/usr/bin/prometheus';
/** One instant query: the samples of the result vector, as { metric, value }. */
async function query(promUrl, expr) {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

describe('Prometheus scrapes a relay under real traffic', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-e2e-metrics-');
  let relay;
  let metricsPort;
  let promUrl;
  let echo;

  before(async () => {
    accessSync(PROMETHEUS, constants.X_OK); // Debian package prometheus (.ci/run installs it)
    echo = await echoServer();
    metricsPort = await freePort();
    relay = await startRelay(procs, dir.path, { args: ['--metrics-port', String(metricsPort)] });
    await relay.proc.waitFor('stderr', /^Metrics for scrapers at http:\/\/127\.0\.0\.1:\d+\/metrics/);

    const token = await createUser(relay, 'alice');
    await startShare(procs, { url: relay.url, token, tunnel: 'echo', targetPort: echo.address().port });
    const connect = await startConnect(procs, { url: relay.url, token, tunnel: 'echo' });
    assert.equal(await echoThrough(connect.port, 256 * 1024), 256 * 1024);
    assert.equal(await echoThrough(connect.port, 1000), 1000);

    // A scrape every second, of both endpoints; the main port with the admin token as bearer.
    const promDir = join(dir.path, 'prometheus');
    mkdirSync(join(promDir, 'data'), { recursive: true });
    const config = join(promDir, 'prometheus.yml');
    writeFileSync(join(promDir, 'admin-token'), relay.adminToken, { mode: 0o600 });
    writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: tether-admin-listener',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${metricsPort}']`,
      '  - job_name: tether-main-port',
      '    authorization:',
      '      type: Bearer',
      `      credentials_file: ${join(promDir, 'admin-token')}`,
      '    static_configs:',
      `      - targets: ['${new URL(relay.url).host}']`,
      '',
    ].join('\n'));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    procs.start(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
  });

  after(async () => {
    await procs.stopAll();
    echo?.close();
    dir.dispose();
  });

  test('the admin listener: streams opened, bytes both ways, open latency and Node process metrics reach Prometheus', async () => {
    const job = '{job="tether-admin-listener"}';
    const opened = await until(async () => (await query(promUrl, `tether_streams_opened_total${job}`)).find((s) => s.value > 0), 'tether_streams_opened_total > 0 in Prometheus');
    assert.ok(opened.value >= 2, `two connections through the tunnel, got ${opened.value}`);
    let seen;
    const bytes = await until(async () => {
      const samples = await query(promUrl, `tether_stream_bytes_total${job}`);
      seen = samples;
      const up = samples.find((s) => s.metric.direction === 'up');
      const down = samples.find((s) => s.metric.direction === 'down');
      return up && down && up.value >= 256 * 1024 + 1000 && down.value >= 256 * 1024 + 1000 && { up: up.value, down: down.value };
    }, 'tether_stream_bytes_total up and down with the echoed bytes').catch((err) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(seen)}`);
    });
    assert.equal(bytes.up, 256 * 1024 + 1000, 'payload bytes up: exactly what was sent');
    assert.equal(bytes.down, 256 * 1024 + 1000, 'payload bytes down: exactly what came back');
    const latency = await query(promUrl, `tether_stream_open_seconds_count${job}`);
    assert.ok(latency[0]?.value >= 2, 'an open latency per stream');
    const links = await query(promUrl, `tether_links${job}`);
    assert.equal(links.find((s) => s.metric.role === 'host')?.value, 1);
    assert.equal((await query(promUrl, `tether_tunnels_online${job}`))[0]?.value, 1);
    assert.ok((await query(promUrl, `process_resident_memory_bytes${job}`))[0]?.value > 0);
  });

  test('the main port, scraped with the admin token as bearer, serves the same registry', async () => {
    const up = await until(async () => (await query(promUrl, 'up{job="tether-main-port"}')).find((s) => s.value === 1), 'the main port scraped with the bearer token');
    assert.equal(up.value, 1);
    const opened = await until(async () => (await query(promUrl, 'tether_streams_opened_total{job="tether-main-port"}')).find((s) => s.value > 0), 'streams opened via the main port');
    assert.ok(opened.value >= 2);
  });

  test('/metrics on the main port needs the admin token: 401 without, 403 with a user token, 200 with it', async () => {
    const none = await fetch(`${relay.url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).code, 'TETHER_ERR_UNAUTHORIZED');
    const user = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${await createUser(relay, 'bob')}` } });
    assert.equal(user.status, 403);
    const admin = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${relay.adminToken}` } });
    assert.equal(admin.status, 200);
    assert.match(admin.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.match(await admin.text(), /^tether_streams_opened_total \d+$/m);
    const listener = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(listener.status, 200, 'the admin listener needs no token');
  });
});
