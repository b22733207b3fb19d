import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { generateAuditKeyring } from '../audit-keys.js';
import { ChainedAuditLog } from '../chained-log.js';
import { MemoryMetrics } from '../../metrics/memory-metrics.js';
import { SqliteStore } from '../../stores/sqlite/sqlite-store.js';
import { HecTransport } from './hec-transport.js';
import { formatRfc5424, octetFrame } from './rfc5424.js';
import { SiemForwarder, type SiemForwarderOptions } from './siem-forwarder.js';
import type { SiemTransport } from './siem-transport.js';
import { SyslogTransport } from './syslog-transport.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until true (a guard against hanging, not a threshold). */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A signed log in an in-memory SQLite store, with `n` records. */
async function auditLog(n = 0) {
  const store = new SqliteStore(':memory:');
  let t = Date.UTC(2026, 11, 1, 10, 0, 0);
  const log = new ChainedAuditLog({ store: store.auditLog, keys: generateAuditKeyring(), clock: { now: () => t, monotonic: () => 0 }, nodeId: 'node-1', log: silent, checkpointIntervalMs: 0 });
  const add = async (count: number, target = 'tunnel:web') => {
    for (let i = 0; i < count; i++) {
      t += 1;
      log.record({ code: 'access.granted', at: new Date(t).toISOString(), subject: { id: 1, name: 'alice', admin: false }, action: 'tunnel.connect', resource: target, rule: 'owner' });
    }
    await log.flush();
  };
  await add(n);
  const close = async (): Promise<void> => {
    await log.close();
    await store.close();
  };
  return { store, log, add, close };
}

/** An octet-counting syslog collector on 127.0.0.1: the record indexes it received, in order. */
async function collector({ dropAfterBytes }: { dropAfterBytes?: number } = {}) {
  const indexes: number[] = [];
  const connections: net.Socket[] = [];
  let accepted = 0;
  let dropped = false;
  const server = net.createServer((socket) => {
    accepted++;
    connections.push(socket);
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (dropAfterBytes !== undefined && !dropped && seen > dropAfterBytes) {
        // Once: the connection dies mid-batch, with what arrived so far possibly half a message.
        dropped = true;
        socket.destroy();
        chunk = chunk.subarray(0, chunk.length - (seen - dropAfterBytes));
      }
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) break;
        const length = Number(buffer.subarray(0, space).toString('ascii'));
        if (buffer.length < space + 1 + length) break;
        const message = buffer.subarray(space + 1, space + 1 + length).toString('utf8');
        buffer = buffer.subarray(space + 1 + length);
        indexes.push(Number(/ index="(\d+)"/.exec(message)?.[1]));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    indexes,
    accepted: () => accepted,
    close: async () => {
      for (const s of connections) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function forwarder(log: Awaited<ReturnType<typeof auditLog>>, transport: SiemTransport, extra: Partial<SiemForwarderOptions> = {}): SiemForwarder {
  return new SiemForwarder({
    name: 'syslog:test',
    log: log.log,
    store: log.store.auditLog,
    transport,
    format: (entry) => octetFrame(formatRfc5424(entry)),
    logger: silent,
    pollMs: 60_000,
    ...extra,
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('SIEM forwarder', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('sends every record in order, framed; the cursor and the lag gauge follow', async () => {
    const log = await auditLog(1200);
    const syslog = await collector();
    cleanups.push(log.close, syslog.close);
    const metrics = new MemoryMetrics();
    const lagGauge = metrics.gauge({ name: 'tether_audit_sink_lag_records', help: 'lag', labelNames: ['sink'] });
    const f = forwarder(log, new SyslogTransport({ protocol: 'tcp', host: '127.0.0.1', port: syslog.port }), { lagGauge, batchSize: 500 });
    f.start();
    await until(() => syslog.indexes.length >= 1200, '1200 records');
    await until(async () => (await log.store.auditLog.getCursor('syslog:test')) === 1200, 'the cursor at 1200');
    assert.deepEqual(syslog.indexes, range(0, 1200));
    assert.deepEqual(f.status(), { name: 'syslog:test', lag: 0, connected: true, lastError: null, sent: 1200, standby: false });
    assert.equal(metrics.value('tether_audit_sink_lag_records', { sink: 'syslog:test' }), 0);
    // An append wakes it (the poll is a minute away).
    await log.add(3);
    await until(() => syslog.indexes.length === 1203, 'the appended records');
    await f.stop();
  });

  test('the cursor moves only once the transport acknowledged the batch', async () => {
    const log = await auditLog(10);
    cleanups.push(log.close);
    const pending: (() => void)[] = [];
    const transport: SiemTransport = { connected: true, connection: 0, close: () => undefined, send: () => new Promise<void>((resolve) => pending.push(resolve)) };
    const f = forwarder(log, transport, { batchSize: 4, confirmMs: 0 });
    f.start();
    await until(() => pending.length === 1, 'a batch in flight');
    await sleep(50);
    assert.equal(await log.store.auditLog.getCursor('syslog:test'), 0);
    assert.equal(f.status().lag, 10);
    pending.shift()?.();
    await until(() => pending.length === 1, 'the next batch');
    assert.equal(await log.store.auditLog.getCursor('syslog:test'), 4);
    pending.shift()?.();
    await until(() => pending.length === 1, 'the last batch');
    pending.shift()?.();
    await until(async () => (await log.store.auditLog.getCursor('syslog:test')) === 10, 'the cursor at the end');
    await f.stop();
  });

  test('a new forwarder resumes from the persisted cursor', async () => {
    const log = await auditLog(5);
    const syslog = await collector();
    cleanups.push(log.close, syslog.close);
    const target = { protocol: 'tcp', host: '127.0.0.1', port: syslog.port } as const;
    const first = forwarder(log, new SyslogTransport(target));
    first.start();
    await until(async () => (await log.store.auditLog.getCursor('syslog:test')) === 5, 'the first five');
    await first.stop();
    await log.add(4);
    const second = forwarder(log, new SyslogTransport(target));
    second.start();
    await until(() => syslog.indexes.length === 9, 'nine records');
    assert.deepEqual(syslog.indexes, range(0, 9));
    await second.stop();
  });

  test('a collector that is down: backoff, lag and the error reported; then it drains', async () => {
    const log = await auditLog(20);
    cleanups.push(log.close);
    const port = await closedPort();
    let attempts = 0;
    const syslog = new SyslogTransport({ protocol: 'tcp', host: '127.0.0.1', port });
    const counting: SiemTransport = { get connected() { return syslog.connected; }, get connection() { return syslog.connection; }, close: () => syslog.close(), send: (m) => { attempts++; return syslog.send(m); } };
    const f = forwarder(log, counting, { backoff: { initialMs: 20, maxMs: 160 } });
    f.start();
    await sleep(700);
    // 20, 40, 80, 160, 160… ms apart: about 7 tries in 700 ms, not hundreds.
    assert.ok(attempts >= 4 && attempts <= 9, `${attempts} attempts`);
    const status = f.status();
    assert.equal(status.lag, 20);
    assert.equal(status.connected, false);
    assert.match(status.lastError ?? '', /ECONNREFUSED/);
    const server = net.createServer((s) => s.on('data', () => undefined).on('error', () => undefined)).listen(port, '127.0.0.1');
    cleanups.push(() => void server.close());
    await until(() => f.status().lag === 0, 'the lag back to 0');
    assert.equal(f.status().lastError, null);
    await f.stop();
  });

  test('a batch counts as delivered once its connection stayed up a moment after', async () => {
    const log = await auditLog(10);
    const syslog = await collector();
    cleanups.push(log.close, syslog.close);
    const f = forwarder(log, new SyslogTransport({ protocol: 'tcp', host: '127.0.0.1', port: syslog.port }), { confirmMs: 300 });
    f.start();
    await until(() => syslog.indexes.length === 10, 'the records written');
    assert.equal(await log.store.auditLog.getCursor('syslog:test'), 0);
    assert.equal(f.status().lag, 10);
    await until(async () => (await log.store.auditLog.getCursor('syslog:test')) === 10, 'the cursor moved after confirmMs');
    assert.equal(f.status().lag, 0);
    await f.stop();
  });

  test('with a lease, one of two nodes forwards; the other takes over when it stops', async () => {
    const log = await auditLog(50);
    const syslog = await collector();
    cleanups.push(log.close, syslog.close);
    const target = { protocol: 'tcp', host: '127.0.0.1', port: syslog.port } as const;
    const [a, b] = ['node-a', 'node-b'].map((holder) => forwarder(log, new SyslogTransport(target), { lease: { holder, ttlMs: 300 }, pollMs: 50, confirmMs: 50 }));
    a.start();
    b.start();
    await until(async () => (await log.store.auditLog.getCursor('syslog:test')) === 50, 'the first fifty');
    await sleep(200);
    const [active, standby] = a.status().sent > 0 ? [a, b] : [b, a];
    assert.deepEqual([active.status().sent, active.status().standby, standby.status().sent, standby.status().standby], [50, false, 0, true]);
    assert.equal(standby.status().lag, 0, 'the standby reports the lag from the store');
    await active.stop(2000);
    await log.add(10);
    await until(() => standby.status().sent === 10, 'the standby taking over');
    assert.equal(standby.status().standby, false);
    // Sent is counted once written to the socket: the collector reads them a moment later.
    await until(() => syslog.indexes.length >= 60, 'the collector reading the ten');
    assert.deepEqual(syslog.indexes, range(0, 60));
    await standby.stop();
  });

  test('a connection dropped mid-batch: records repeated, never skipped', async () => {
    const log = await auditLog(300);
    const syslog = await collector({ dropAfterBytes: 20_000 });
    cleanups.push(log.close, syslog.close);
    const f = forwarder(log, new SyslogTransport({ protocol: 'tcp', host: '127.0.0.1', port: syslog.port }), { batchSize: 100, backoff: { initialMs: 10 } });
    f.start();
    await until(async () => (await log.store.auditLog.getCursor('syslog:test')) === 300, 'everything acknowledged');
    await f.stop();
    assert.ok(syslog.accepted() >= 2, 'reconnected');
    assert.deepEqual([...new Set(syslog.indexes)].sort((a, b) => a - b), range(0, 300), 'every index');
    // In order, except for one step back to the start of the batch that was resent.
    const backs = syslog.indexes.filter((v, i) => i > 0 && v <= syslog.indexes[i - 1]);
    assert.ok(backs.length <= 1, `${backs.length} steps back`);
  });
});

describe('HEC transport', () => {
  test('POSTs concatenated events with the Splunk token; a non-2xx answer fails the batch', async () => {
    const requests: { path?: string; auth?: string; body: string }[] = [];
    let status = 503;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        requests.push({ path: req.url, auth: req.headers.authorization, body });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"text":"Success","code":0}' : '{"text":"Server is busy","code":9}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const hec = new HecTransport({ url: `http://127.0.0.1:${port}`, token: 'tok-123' });
    await assert.rejects(hec.send([Buffer.from('{"a":1}')]), /the collector answered 503: \{"text":"Server is busy","code":9\}/);
    assert.equal(hec.connected, false);
    status = 200;
    await hec.send([Buffer.from('{"a":1}'), Buffer.from('{"b":"é"}')]);
    assert.equal(hec.connected, true);
    assert.deepEqual(requests[1], { path: '/services/collector/event', auth: 'Splunk tok-123', body: '{"a":1}{"b":"é"}' });
    hec.close();
    server.close();
  });
});
