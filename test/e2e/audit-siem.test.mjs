// SIEM export of the signed audit log against real peers: Debian's rsyslogd (octet-counted RFC
// 5424 over TCP, and over TLS with rsyslog-gnutls, a CA and server certificate made with openssl
// here) and a Splunk HEC stand-in (an HTTP server in this process), with `tether relay
// --audit-syslog / --audit-hec` as a real process. What arrives is compared with `tether audit
// export` record by record; a relay killed with SIGKILL in the middle of a burst and restarted
// on its data folder leaves no gap in what rsyslog received, only indexes repeated at the kill.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUser, freePort, HANG_GUARD, Processes, run, startRelay, tempDir, tether } from './fixtures.mjs';
import { formatRfc5424, octetFrame } from '../../relay/dist/audit/siem/rfc5424.js';
import { SyslogTransport } from '../../relay/dist/audit/siem/syslog-transport.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value (a guard against hanging, not a threshold). */
async function until(check, what, timeoutMs = 30_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Complete lines of a file rsyslog writes (a line being written is left out). */
function linesOf(file) {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop();
  return lines;
}

/** The record index in an RFC 5424 line of the relay (its structured data). */
const syslogIndex = (line) => Number(/ \[tether@32473 index="(\d+)"/.exec(line)?.[1]);

/**
 * A CEF parser written from the format's description: seven header fields split on unescaped
 * `|`, then `key=value` pairs, a value running to the space before the next unescaped `key=`.
 */
function parseCef(line) {
  const header = [];
  let field = '';
  let at = 0;
  while (header.length < 7) {
    const c = line[at++];
    if (c === undefined) throw new Error(`not CEF: ${line}`);
    if (c === '\\') field += line[at++];
    else if (c === '|') {
      header.push(field);
      field = '';
    } else field += c;
  }
  const rest = line.slice(at);
  const keys = [...rest.matchAll(/(?:^| )([A-Za-z0-9_]+)=/g)].filter((m) => {
    let slashes = 0;
    for (let i = m.index + m[0].length - 2; i >= 0 && rest[i] === '\\'; i--) slashes++;
    return slashes % 2 === 0;
  });
  const extension = {};
  keys.forEach((m, i) => {
    const end = i + 1 < keys.length ? keys[i + 1].index : rest.length;
    extension[m[1]] = rest.slice(m.index + m[0].length, end).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  });
  return { header, extension };
}

/** Splits concatenated JSON objects (the body of a HEC request) without trusting any separator. */
function splitJson(body) {
  const out = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(body.slice(start, i + 1)));
  }
  return out;
}

/** Indexes as they arrived must run on by one, but for at most `restarts` steps back (a resend); none skipped. */
function assertNoGap(indexes, last, restarts) {
  let backs = 0;
  assert.equal(indexes[0], 0);
  for (let i = 1; i < indexes.length; i++) {
    if (indexes[i] === indexes[i - 1] + 1) continue;
    assert.ok(indexes[i] <= indexes[i - 1], `a gap: ${indexes[i - 1]} then ${indexes[i]}`);
    backs++;
  }
  assert.ok(backs <= restarts, `${backs} steps back`);
  assert.equal(Math.max(...indexes), last);
}

describe('audit log to SIEMs: a real rsyslog over TCP and TLS (RFC 5424, CEF) and a Splunk HEC stand-in', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-siem-');
  const file = (name) => join(tmp.path, name);
  const ports = {};
  const readyz = async (relay) => (await fetch(`${relay.url}/readyz`, { headers: { authorization: `Bearer ${relay.adminToken}` } }));
  const admin = (relay, args) => tether(args, { relay: relay.url, token: relay.adminToken });
  /** Records of every kind from the outside: users, refused tokens, allowed and refused tunnel calls. */
  async function someEvents(relay, prefix) {
    const token = await createUser(relay, `${prefix}-alice`);
    await createUser(relay, `${prefix}-bob`);
    assert.equal((await tether(['tunnels'], { relay: relay.url, token: 'not|a=token\\' })).code, 1);
    assert.equal((await tether(['tunnels'], { relay: relay.url, token })).code, 0);
    assert.equal((await admin(relay, ['user', 'token', `${prefix}-bob`])).code, 0);
  }
  /**
   * The sinks, once /readyz says every one is caught up (lag 0). Asked every second: each admin
   * /readyz is itself a record (access.granted, relay.stats), which a syslog sink confirms 0.5 s
   * after writing it.
   */
  const caughtUp = (relay) => until(async () => {
    const body = await (await readyz(relay)).json();
    return body.audit?.sinks.every((s) => s.lag === 0) && body.audit.sinks;
  }, 'the sinks caught up', 60_000, 1000);

  before(async () => {
    for (const [program, pkg] of [[RSYSLOGD, 'rsyslog'], ['/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so', 'rsyslog-gnutls'], ['/usr/bin/openssl', 'openssl']]) {
      try {
        accessSync(program, constants.R_OK);
      } catch {
        throw new Error(`this suite needs ${program} (Debian package ${pkg}); .ci/run installs it`);
      }
    }
    // A private CA and a certificate for localhost / 127.0.0.1, as a collector would have.
    const openssl = (args) => execFileSync('openssl', args, { cwd: tmp.path, stdio: 'pipe' });
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tether-test-ca']);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);

    // One input (and one file) per test: raw messages as received, and the fields rsyslog parsed.
    const tls = `streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon" streamDriver.CAFile="${file('ca.pem')}" streamDriver.CertFile="${file('server.pem')}" streamDriver.KeyFile="${file('server-key.pem')}"`;
    const inputs = [['utf8', 'tcp'], ['utf8tls', 'tls'], ['tcp', 'tcp'], ['cef', 'tls'], ['kill', 'tcp'], ['rate', 'tcp'], ['ratetls', 'tls']];
    const conf = [
      `global(workDirectory="${tmp.path}")`,
      'module(load="imtcp" maxSessions="50")',
      'template(name="raw" type="string" string="%rawmsg%\\n")',
      'template(name="parsed" type="string" string="%syslogfacility% %syslogseverity% %hostname% %app-name% %procid% %msgid% %timereported:::date-rfc3339% %structured-data%\\n")',
    ];
    for (const [name, kind] of inputs) {
      ports[name] = await freePort();
      conf.push(`ruleset(name="${name}") {`, `  action(type="omfile" file="${file(`${name}.log`)}" template="raw")`, `  action(type="omfile" file="${file(`${name}-parsed.log`)}" template="parsed")`, '}');
      conf.push(`input(type="imtcp" address="127.0.0.1" port="${ports[name]}" ruleset="${name}"${kind === 'tls' ? ` ${tls}` : ''})`);
    }
    writeFileSync(file('rsyslog.conf'), `${conf.join('\n')}\n`);
    const check = await run(RSYSLOGD, ['-N1', '-f', file('rsyslog.conf')]);
    assert.equal(check.code, 0, check.stderr);
    procs.start(RSYSLOGD, ['-n', '-f', file('rsyslog.conf'), '-i', file('rsyslog.pid')]);
    for (const [name] of inputs) {
      await until(() => new Promise((resolve) => {
        const s = net.connect(ports[name], '127.0.0.1', () => s.end(() => resolve(true))).on('error', () => resolve(false));
      }), `rsyslog listening on ${ports[name]}`, 20_000);
    }
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('multibyte UTF-8 (é, 日本) and the BOM: octet counts in bytes; rsyslog parses every field, over TCP and TLS', async () => {
    const entry = (index) => ({ index, time: '2026-12-01T10:46:57.141Z', event: 'access.denied', actor: 'user:rené', target: 'tunnel:日本', outcome: 'failure', node: 'nœud-1', details: { reason: 'a"b]c\\d é' } });
    const messages = [0, 1, 2].map((i) => formatRfc5424(entry(i)));
    for (const [name, protocol] of [['utf8', 'tcp'], ['utf8tls', 'tls']]) {
      const transport = new SyslogTransport({ protocol, host: '127.0.0.1', port: ports[name], ca: readFileSync(file('ca.pem'), 'utf8'), servername: 'localhost' });
      await transport.send(messages.map(octetFrame));
      transport.close();
      await until(() => linesOf(file(`${name}-parsed.log`)).length === 3, `three messages over ${protocol}`);
      assert.deepEqual(linesOf(file(`${name}.log`)), messages, `${protocol}: the messages as sent`);
      for (const [i, line] of linesOf(file(`${name}-parsed.log`)).entries()) {
        assert.equal(line, `10 4 n_ud-1 tether - access.denied 2026-12-01T10:46:57.141Z [tether@32473 index="${i}" actor="user:rené" target="tunnel:日本" outcome="failure" node="nœud-1" reason="a\\"b\\]c\\\\d é"]`);
      }
    }
  });

  test('--audit-syslog tcp://: rsyslog holds exactly the records of `tether audit export`, in order; /readyz shows the sink', async () => {
    const relay = await startRelay(procs, tmp.path, { dataDir: file('relay-tcp'), args: ['--audit-syslog', `tcp://127.0.0.1:${ports.tcp}`] });
    await someEvents(relay, 'tcp');
    const sinks = await caughtUp(relay);
    assert.deepEqual(sinks, [{ name: `syslog:tcp://127.0.0.1:${ports.tcp}`, lag: 0, connected: true, lastError: null }]);
    const exported = await admin(relay, ['audit', 'export', '--format', 'syslog']);
    assert.equal(exported.code, 0, exported.stderr);
    const expected = exported.stdout.split('\n').filter(Boolean);
    // The export is itself an admin call with a record of its own: wait for it too.
    await until(() => linesOf(file('tcp.log')).length >= expected.length, 'the exported records in rsyslog');
    const received = linesOf(file('tcp.log'));
    assert.deepEqual(received.slice(0, expected.length), expected);
    assert.deepEqual(received.map(syslogIndex), received.map((_, i) => i));
    const parsed = linesOf(file('tcp-parsed.log'));
    assert.ok(parsed.some((l) => l.startsWith('10 4 ') && l.includes(' auth.failed ')), 'a refusal at warning');
    assert.ok(parsed.some((l) => l.startsWith('10 5 ') && l.includes(' user.created ')), 'a change at notice');
    // /readyz stays 200 and tells nothing about sinks to someone without the admin token.
    const anonymous = await fetch(`${relay.url}/readyz`);
    assert.equal(anonymous.status, 200);
    assert.equal((await anonymous.json()).audit, undefined);
    await procs.stop(relay.proc);
  });

  test('--audit-syslog tls:// --audit-syslog-format cef: CEF over TLS to rsyslog, round-tripped through a CEF parser', async () => {
    const relay = await startRelay(procs, tmp.path, {
      dataDir: file('relay-cef'),
      args: ['--audit-syslog', `tls://localhost:${ports.cef}`, '--audit-syslog-ca', file('ca.pem'), '--audit-syslog-format', 'cef'],
    });
    await someEvents(relay, 'cef');
    await caughtUp(relay);
    const exported = await admin(relay, ['audit', 'export', '--format', 'cef']);
    assert.equal(exported.code, 0, exported.stderr);
    const expected = exported.stdout.split('\n').filter(Boolean);
    await until(() => linesOf(file('cef.log')).length >= expected.length, 'the exported records in rsyslog');
    const received = linesOf(file('cef.log'));
    // An RFC 5424 header (no structured data), then the CEF event as the MSG.
    const cef = received.map((line) => /^<\d+>1 \S+ \S+ tether - \S+ - (CEF:0\|.*)$/.exec(line)?.[1]);
    assert.deepEqual(cef.slice(0, expected.length), expected);
    const events = cef.map(parseCef);
    assert.deepEqual(events.map((e) => Number(e.extension.cn1)), events.map((_, i) => i));
    const refused = events.find((e) => e.header[4] === 'auth.failed');
    assert.ok(refused, 'auth.failed forwarded');
    assert.deepEqual(refused.header.slice(0, 3), ['CEF:0', 'Tether', 'Tether Relay']);
    assert.equal(refused.header[6], '7');
    assert.equal(refused.extension.outcome, 'failure');
    assert.equal(refused.extension.src, '127.0.0.1');
    const created = events.find((e) => e.header[4] === 'user.created');
    assert.equal(created.extension.duser, 'cef-alice');
    assert.equal(created.extension.suser, 'admin');
    await procs.stop(relay.proc);
  });

  test('SIGKILL in the middle of a burst, restart on the same data folder: every index from 0 to the end, repeats only at the kill', async (t) => {
    const dataDir = file('relay-kill');
    const args = ['--audit-syslog', `tcp://127.0.0.1:${ports.kill}`];
    let relay = await startRelay(procs, tmp.path, { dataDir, args });
    const token = await createUser(relay, 'burst');
    // A burst of allowed calls (one access.granted record each), 16 at a time, until the relay is killed.
    let killed = false;
    const burst = (async () => {
      while (!killed) {
        await Promise.all(Array.from({ length: 16 }, () => fetch(`${relay.url}/v1/tunnels`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.arrayBuffer(), () => undefined)));
      }
    })();
    await until(() => linesOf(file('kill.log')).length >= 300, 'records forwarded during the burst');
    process.kill(relay.proc.pid, 'SIGKILL');
    killed = true;
    await relay.proc.exited;
    await burst;
    const beforeRestart = linesOf(file('kill.log')).length;

    const started = Date.now();
    relay = await startRelay(procs, tmp.path, { dataDir, args });
    await caughtUp(relay);
    const exported = await admin(relay, ['audit', 'export']);
    const size = exported.stdout.split('\n').filter(Boolean).length;
    await until(() => linesOf(file('kill.log')).map(syslogIndex).includes(size - 1), 'every record in rsyslog');
    const seconds = (Date.now() - started) / 1000;
    const indexes = linesOf(file('kill.log')).map(syslogIndex);
    assertNoGap(indexes, Math.max(...indexes), 1);
    assert.deepEqual([...new Set(indexes)].sort((a, b) => a - b), Array.from({ length: Math.max(...indexes) + 1 }, (_, i) => i));
    const repeated = indexes.length - new Set(indexes).size;
    t.diagnostic(`${beforeRestart} lines before the kill, ${indexes.length} after, ${repeated} repeated, ${size} records; restart and catch-up in ${seconds.toFixed(1)} s`);
    await procs.stop(relay.proc);
  });

  test('a backlog forwarded at start: records per second to rsyslog over TCP and TLS (measured, not a threshold)', async (t) => {
    // Records made while no sink was configured: the next start forwards them all from cursor 0.
    const dataDir = file('relay-rate');
    let relay = await startRelay(procs, tmp.path, { dataDir });
    // Users made by the admin: user.created is recorded one by one, while the access decisions
    // that come with them past 10 a second are counted in one record (the flood summary), so the
    // log's own size after the burst is what rsyslog must receive.
    for (let made = 0; made < 1500; made += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => fetch(`${relay.url}/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `r${made + i}` }),
      }).then((r) => r.arrayBuffer())));
    }
    const checkpoint = await (await fetch(`${relay.url}/v1/audit/checkpoint`, { method: 'POST', headers: { authorization: `Bearer ${relay.adminToken}` } })).json();
    const wanted = checkpoint.size;
    assert.ok(wanted >= 1500, `the log holds ${wanted} records`);
    await procs.stop(relay.proc);
    for (const [name, url] of [['rate', `tcp://127.0.0.1:${ports.rate}`], ['ratetls', `tls://localhost:${ports.ratetls}`]]) {
      const started = Date.now();
      relay = await startRelay(procs, tmp.path, { dataDir, args: ['--audit-syslog', url, '--audit-syslog-ca', file('ca.pem')] });
      const first = await until(() => linesOf(file(`${name}.log`)).length > 0 && Date.now(), 'the first record in rsyslog', 60_000, 10);
      await until(() => linesOf(file(`${name}.log`)).length >= wanted, `${wanted} records in rsyslog`, 120_000, 10);
      const done = Date.now();
      const indexes = linesOf(file(`${name}.log`)).map(syslogIndex);
      assertNoGap(indexes, indexes[indexes.length - 1], 0);
      const rate = Math.round(indexes.length / ((done - first) / 1000));
      t.diagnostic(`${url.split(':')[0]}: ${indexes.length} records, the first ${first - started} ms after the relay was started, then ${rate} records/s (polled every 10 ms)`);
      await procs.stop(relay.proc);
    }
  });

  test('--audit-hec: ECS events with the token; a collector answering 503 makes the lag grow (/readyz stays 200), then it drains', async () => {
    const received = [];
    let status = 503;
    let refused = 0;
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url !== '/services/collector/event' || req.headers.authorization !== 'Splunk hec-token-1234') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"text":"Invalid token","code":4}');
          return;
        }
        if (status !== 200) {
          refused++;
          res.writeHead(status, { 'content-type': 'application/json' }).end('{"text":"Server is busy","code":9}');
          return;
        }
        received.push(...splitJson(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const relay = await startRelay(procs, tmp.path, {
        dataDir: file('relay-hec'),
        args: ['--audit-hec', `http://127.0.0.1:${server.address().port}`, '--audit-hec-index', 'tether-audit'],
        env: { TETHER_AUDIT_HEC_TOKEN: 'hec-token-1234' },
      });
      await someEvents(relay, 'hec');
      const behind = await until(async () => {
        const res = await readyz(relay);
        const body = await res.json();
        return res.status === 200 && body.status === 'ready' && body.audit.sinks[0].lag >= 5 && refused >= 2 && body.audit.sinks[0];
      }, 'the lag reported while the collector answers 503');
      assert.equal(behind.connected, false);
      assert.match(behind.lastError, /the collector answered 503/);
      assert.equal(received.length, 0);
      status = 200;
      await caughtUp(relay);
      const exported = await admin(relay, ['audit', 'export', '--format', 'hec']);
      const expected = exported.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      await until(() => received.length >= expected.length, 'the exported records at the collector');
      assert.deepEqual(received.slice(0, expected.length), expected.map((e) => ({ ...e, index: 'tether-audit' })));
      assert.deepEqual(received.map((e) => e.event.event.sequence), received.map((_, i) => i));
      const failed = received.find((e) => e.event.event.action === 'auth.failed');
      assert.equal(typeof failed.time, 'number');
      assert.deepEqual([failed.source, failed.sourcetype, failed.index, failed.host], ['tether', 'tether:audit', 'tether-audit', failed.event.observer.hostname]);
      assert.deepEqual(failed.event.event.category, ['authentication']);
      assert.equal(failed.event.event.outcome, 'failure');
      assert.equal(failed.event.event.kind, 'event');
      assert.equal(failed.event.source.ip, '127.0.0.1');
      assert.equal(failed.event['@timestamp'], new Date(failed.time * 1000).toISOString());
      assert.equal(received.find((e) => e.event.event.action === 'user.created' && e.event.user?.target?.name === 'hec-bob')?.event.event.category[0], 'iam');
      await procs.stop(relay.proc);
    } finally {
      server.close();
    }
  });

  test('--audit-hec https:// with --audit-hec-ca: the private CA is trusted, the events arrive', async () => {
    const received = [];
    const server = https.createServer({ cert: readFileSync(file('server.pem')), key: readFileSync(file('server-key.pem')) }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.headers.authorization === 'Splunk tls-token-5678') received.push(...splitJson(body));
        res.writeHead(req.headers.authorization === 'Splunk tls-token-5678' ? 200 : 401).end('{}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const relay = await startRelay(procs, tmp.path, {
        dataDir: file('relay-hec-tls'),
        args: ['--audit-hec', `https://localhost:${server.address().port}`, '--audit-hec-ca', file('ca.pem'), '--audit-hec-token', 'tls-token-5678'],
      });
      await createUser(relay, 'tls-user');
      await until(() => received.some((e) => e.event.event.action === 'user.created'), 'user.created at the collector');
      assert.deepEqual(received.map((e) => e.event.event.sequence), received.map((_, i) => i));
      await procs.stop(relay.proc);
    } finally {
      server.close();
    }
  });

  test('a bad sink URL is refused at start with a sentence', async () => {
    for (const [args, message] of [
      [['--audit-syslog', 'udp://127.0.0.1:514'], /--audit-syslog takes tcp:\/\/HOST:PORT or tls:\/\/HOST:PORT/],
      [['--audit-hec', 'ftp://splunk'], /--audit-hec takes the collector's http\(s\) URL/],
      [['--audit-hec', 'https://splunk:8088'], /needs the collector's token: set TETHER_AUDIT_HEC_TOKEN/],
    ]) {
      const r = await run(process.execPath, [join(import.meta.dirname, '../../extension/dist/cli/main.js'), 'relay', '--port', '0', '--data', file('relay-bad'), ...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
