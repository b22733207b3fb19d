// The Grafana dashboard (deploy/grafana/tether-overview.json) and the Prometheus alert rules
// (deploy/prometheus/tether-alerts.yml) against a real Prometheus (Debian package) scraping two
// real `tether relay` nodes on a real Redis under real traffic: streams across the nodes, an
// open refused, a connection cut mid-stream, a rate limit refusing, a hung Redis for a moment,
// the audit log forwarded to a syslog listener. Every dashboard query and every alert
// expression must parse and return data, and Prometheus must load and evaluate every rule.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisProcess, freePort as freeRedisPort } from '../../relay/dist/test-support/redis-server.js';
import { createUser, echoServer, echoThrough, freePort, HANG_GUARD, Processes, ROOT, startConnect, startRelay, startShare, tempDir, tether, until } from './fixtures.mjs';

const PROMETHEUS = '/usr/bin/prometheus';
const ADMIN_TOKEN = 'e2e-admin-token-of-the-dashboards';
const SECRET = 'e2e-cluster-secret-dashboards-0123';
const DASHBOARD = join(ROOT, 'deploy/grafana/tether-overview.json');
const RULES = join(ROOT, 'deploy/prometheus/tether-alerts.yml');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP listener that reads and drops what it gets: where the audit log's syslog goes. */
async function sinkServer() {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** The dashboard's queries with Grafana's variables as a dashboard set to "All" fills them in. */
function dashboardQueries() {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({
    panel: panel.title,
    expr: target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.+'),
  })));
}

/** The alert rules' expressions, read from the rules file (`expr:` lines). */
function alertExpressions() {
  return [...readFileSync(RULES, 'utf8').matchAll(/^\s+- alert: (\S+)\n\s+expr: (.+)$/gm)].map(([, alert, expr]) => ({ alert, expr }));
}

/** An expression's data without its final threshold (`… > 0.2`), so a quiet relay still answers. */
const withoutThreshold = (expr) => expr.replace(/\s*(==|>|<)\s*[\d.e-]+$/, '');

describe('the Grafana dashboard and the alert rules on a real Prometheus', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-e2e-dashboards-');
  let promUrl;
  let redis;
  let echo;
  let sink;

  async function query(expr) {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await res.json();
    if (body.status !== 'success') throw new Error(`${expr}: ${body.errorType}: ${body.error}`);
    return body.data.result;
  }

  before(async () => {
    accessSync(PROMETHEUS, constants.X_OK); // Debian package prometheus (.ci/run installs it)
    redis = new RedisProcess(await freeRedisPort(), mkdtempSync(join(tmpdir(), 'tether-redis-')));
    await redis.start();
    procs.defer(() => redis.stop());
    echo = await echoServer();
    sink = await sinkServer();
    const rules = join(dir.path, 'rate-limits.json');
    writeFileSync(rules, JSON.stringify({ api: { perRoute: { 'GET /v1/whoami': { rate: 1, periodMs: 3_600_000, burst: 1 } } } }));
    const keys = join(dir.path, 'audit-keys.json');
    const nodes = [];
    for (const name of ['one', 'two']) {
      const metricsPort = await freePort();
      const relay = await startRelay(procs, dir.path, {
        port: await freePort(),
        dataDir: join(dir.path, name),
        args: ['--redis', redis.url, '--node-id', `e2e-${name}`, '--metrics-port', String(metricsPort), '--rate-limits', rules,
          '--audit-keys', keys, '--audit-syslog', `tcp://127.0.0.1:${sink.address().port}`],
        env: { TETHER_CLUSTER_SECRET: SECRET },
        adminToken: ADMIN_TOKEN,
      });
      nodes.push({ ...relay, metricsPort });
    }

    const promDir = join(dir.path, 'prometheus');
    mkdirSync(join(promDir, 'data'), { recursive: true });
    copyFileSync(RULES, join(promDir, 'tether-alerts.yml'));
    writeFileSync(join(promDir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      '  - tether-alerts.yml',
      'scrape_configs:',
      '  - job_name: tether-relay',
      '    static_configs:',
      `      - targets: [${nodes.map((n) => `'127.0.0.1:${n.metricsPort}'`).join(', ')}]`,
      '',
    ].join('\n'));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    procs.start(PROMETHEUS, [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`]);

    // Traffic: a tunnel shared on node one, reached through node two (a cross-node stream).
    const token = await createUser(nodes[0], 'alice');
    await startShare(procs, { url: nodes[0].url, token, tunnel: 'echo', targetPort: echo.address().port });
    const connect = await startConnect(procs, { url: nodes[1].url, token, tunnel: 'echo' });
    await echoThrough(connect.port, 512 * 1024);
    // A connection cut mid-stream: the stream is reset.
    const cut = net.connect(connect.port, '127.0.0.1');
    cut.on('error', () => undefined);
    await once(cut, 'connect');
    cut.write(Buffer.alloc(64 * 1024, 1));
    await sleep(200);
    cut.resetAndDestroy();
    // An open refused: a tunnel shared once, not any more (offline).
    const once_ = await startShare(procs, { url: nodes[0].url, token, tunnel: 'offline', targetPort: echo.address().port });
    await procs.stop(once_);
    const nowhere = await startConnect(procs, { url: nodes[1].url, token, tunnel: 'offline' });
    const refused = net.connect(nowhere.port, '127.0.0.1');
    refused.on('error', () => undefined);
    await once(refused, 'close');
    // A rate limit refusing: GET /v1/whoami once an hour.
    for (let i = 0; i < 3; i++) await fetch(`${nodes[1].url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    // A hung Redis for a moment: store commands time out (1 s) and are counted as errors.
    redis.pause();
    await tether(['tunnels'], { relay: nodes[0].url, token });
    redis.resume();
    // Scraped until every query has something to say (the rates need two scrapes after the traffic).
    await until(async () => (await query('tether_streams_opened_total')).length === 2, 'both nodes scraped');
  });

  after(async () => {
    redis?.resume();
    await procs.stopAll();
    echo?.close();
    sink?.close();
    dir.dispose();
  });

  test('every query of the dashboard parses and returns data', async () => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 20, `${queries.length} queries`);
    for (const { panel, expr } of queries) {
      const result = await until(async () => {
        const r = await query(expr);
        return r.length > 0 && r;
      }, `data for the panel "${panel}": ${expr}`, 60_000);
      assert.ok(result.length > 0);
    }
  });

  test('every alert rule loads and evaluates without error, and its expression returns data (threshold aside)', async () => {
    const alerts = alertExpressions();
    assert.ok(alerts.length >= 8, `${alerts.length} alerts`);
    const loaded = await until(async () => {
      const body = await (await fetch(`${promUrl}/api/v1/rules`)).json();
      const rules = body.data.groups.flatMap((g) => g.rules);
      return rules.length === alerts.length && rules.every((r) => r.health === 'ok') && rules;
    }, 'Prometheus to load and evaluate every rule');
    assert.deepEqual(loaded.map((r) => r.name).sort(), alerts.map((a) => a.alert).sort());
    for (const { alert, expr } of alerts) {
      await query(expr); // parses as written
      await until(async () => (await query(withoutThreshold(expr))).length > 0, `data for ${alert}: ${withoutThreshold(expr)}`, 60_000);
    }
  });
});
