// Compliance reports through the real CLI and a real relay: a fixed scenario (users, an invite,
// access requests approved and denied, a member removed, failed sign-ins, sessions with known
// byte counts through a shared tunnel to a TCP echo), then `tether report compliance` as JSON,
// HTML and PDF for each framework. The figures are counted again here, with this file's own
// code, from the exported log and GET /v1/audit, and must equal the report's; the PDF's first
// page is rendered with pdftoppm.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUser, HANG_GUARD, Processes, startConnect, startRelay, startShare, tempDir, tether } from './fixtures.mjs';

const TUNNEL = 'web';
/** Bytes each session sends (and gets back from the echo). */
const SESSIONS = { bob: [1000, 2500, 4096], carol: [777] };
const BAD_TOKENS = ['bad-token-one', 'bad-token-two', 'bad-token-one', 'bad-token-three', 'bad-token-one', 'bad-token-two'];

/** A TCP echo server on 127.0.0.1. */
async function startEcho() {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** One session: `bytes` sent through the local port, the same read back, then closed. */
function session(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = 0;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= bytes) socket.end();
    });
    socket.on('close', () => (got === bytes ? resolve() : reject(new Error(`echoed ${got} of ${bytes} bytes`))));
    socket.write(Buffer.alloc(bytes, 0x61));
  });
}

describe('tether report compliance: figures that match the log', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-report-');
  const file = (name) => join(tmp.path, name);
  let relay;
  let echo;
  const tokens = {};
  const as = (user, args) => tether(args, { relay: relay.url, token: tokens[user] });
  const admin = (args) => tether(args, { relay: relay.url, token: relay.adminToken });
  const get = async (path) => {
    const res = await fetch(`${relay.url}${path}`, { headers: { authorization: `Bearer ${relay.adminToken}` } });
    assert.equal(res.status, 200, path);
    return res;
  };
  /** Every record with its details opened, from GET /v1/audit. */
  async function opened() {
    const all = [];
    for (let after; ;) {
      const page = await (await get(`/v1/audit?limit=1000${after === undefined ? '' : `&after=${after}`}`)).json();
      all.push(...page.entries);
      if (page.next === null) return all;
      after = page.next;
    }
  }

  before(async () => {
    echo = await startEcho();
    relay = await startRelay(procs, tmp.path);
    for (const name of ['alice', 'bob', 'carol']) tokens[name] = await createUser(relay, name);
    await startShare(procs, { url: relay.url, token: tokens.alice, tunnel: TUNNEL, targetPort: echo.address().port });

    // bob by invite; carol by request: denied once, then approved for 2 h.
    const code = (await as('alice', ['invite', 'create', TUNNEL])).stdout.trim();
    assert.equal((await as('bob', ['invite', 'accept', code])).code, 0);
    const denied = (await as('carol', ['access', 'request', TUNNEL, '--for', '1h', '--reason', 'curious'])).stdout.trim();
    assert.equal((await as('alice', ['access', 'deny', denied, '--reason', 'not needed'])).code, 0);
    const approved = (await as('carol', ['access', 'request', TUNNEL, '--for', '2h', '--reason', 'on call'])).stdout.trim();
    assert.equal((await as('alice', ['access', 'approve', approved])).code, 0);

    for (const [user, sizes] of Object.entries(SESSIONS)) {
      const { port, proc } = await startConnect(procs, { url: relay.url, token: tokens[user], tunnel: TUNNEL });
      for (const bytes of sizes) await session(port, bytes);
      await procs.stop(proc);
    }
    assert.equal((await as('alice', ['members', 'remove', TUNNEL, 'bob'])).code, 0);
    assert.equal((await admin(['user', 'token', 'carol'])).code, 0);
    for (const token of BAD_TOKENS) assert.equal((await tether(['tunnels'], { relay: relay.url, token })).code, 1);

    // Every session is on record before the checkpoint that the report checks against.
    const want = Object.values(SESSIONS).flat().length;
    for (let i = 0; (await opened()).filter((e) => e.event === 'stream.closed').length < want; i++) {
      assert.ok(i < 100, 'stream.closed records within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await procs.stopAll();
    echo?.close();
    tmp.dispose();
  });

  /** The figures, counted here from the export and the opened records (not with the report's code). */
  async function recount(to) {
    const lines = (await (await get('/v1/audit/export?format=jsonl')).text()).split('\n').filter(Boolean);
    // The report's period ends when it started: its own requests (each audited) come after.
    const entries = (await opened()).filter((e) => e.index < lines.length && Date.parse(e.time) <= Date.parse(to));
    for (const e of entries) {
      const r = JSON.parse(lines[e.index]);
      assert.deepEqual([r.time, r.event, r.actor, r.target], [e.time, e.event, e.actor, e.target]);
    }
    const of = (event) => entries.filter((e) => e.event === event);
    const sessions = {};
    for (const e of of('stream.closed')) {
      const s = (sessions[e.target.slice(7)] ??= { sessions: 0, up: 0, down: 0, durationMs: 0 });
      s.sessions++;
      s.up += e.details.detail.up;
      s.down += e.details.detail.down;
      s.durationMs += e.details.detail.durationMs;
    }
    const failedByAddress = {};
    for (const e of of('auth.failed')) failedByAddress[e.details.detail.address] = (failedByAddress[e.details.detail.address] ?? 0) + 1;
    const holders = new Map();
    for (const e of entries) {
      const tunnel = e.target.slice(7);
      if (e.event === 'tunnel.claimed') holders.set(`${tunnel}/${e.actor.slice(5)}`, 'owner');
      if (e.event === 'member.granted') holders.set(`${tunnel}/${e.details.detail.user}`, e.details.detail.role);
      if (e.event === 'member.removed') holders.delete(`${tunnel}/${e.details.detail.user}`);
    }
    return {
      records: entries.length,
      sessions,
      failed: of('auth.failed').length,
      failedByAddress,
      grants: of('member.granted').map((e) => [e.details.detail.user, e.details.detail.role, e.details.detail.source]),
      removals: of('member.removed').map((e) => e.details.detail.user),
      reviews: of('request.reviewed').map((e) => [e.details.detail.request, e.actor, e.details.detail.decision]),
      outcomes: [...of('request.approved'), ...of('request.denied')].map((e) => [e.details.detail.request, e.event.slice(8)]).sort(),
      admin: entries.filter((e) => ['user.created', 'user.deleted', 'user.token_rotated', 'tunnel.deleted', 'tunnel.settings_changed'].includes(e.event)).map((e) => [e.event, e.target]),
      signIns: Object.fromEntries([...new Set(entries.filter((e) => e.event === 'access.granted' && e.details.action === 'relay.connect').map((e) => e.actor.slice(5)))].map((u) => [u, entries.filter((e) => e.event === 'access.granted' && e.details.action === 'relay.connect' && e.actor === `user:${u}`).length])),
      holders: [...holders].sort(),
    };
  }

  for (const framework of ['soc2', 'iso27001', 'hipaa']) {
    test(`${framework}: JSON figures equal a recount of the log; HTML and PDF render`, async () => {
      // A checkpoint now covers what the earlier tests' requests added to the log.
      assert.equal((await admin(['audit', 'checkpoint'])).code, 0);
      const json = await admin(['report', 'compliance', '--framework', framework, '--format', 'json', '--out', file(`${framework}.json`)]);
      assert.equal(json.code, 0, json.stderr);
      assert.equal(statSync(file(`${framework}.json`)).mode & 0o777, 0o600);
      assert.ok(!existsSync(file(`${framework}.json.tmp`)));
      const report = JSON.parse(readFileSync(file(`${framework}.json`), 'utf8'));
      const log = await recount(report.period.to);
      const e = report.evidence;

      assert.equal(report.integrity.ok, true, JSON.stringify(report.integrity));
      assert.ok(report.integrity.covering, 'the checkpoint signed before covers the period');
      assert.deepEqual(report.integrity.mismatched, []);
      assert.equal(e.records.inPeriod, log.records);
      assert.deepEqual(Object.fromEntries(e.sessionsPerTunnel.map((s) => [s.tunnel, { sessions: s.sessions, up: s.up, down: s.down, durationMs: s.durationMs }])), log.sessions);
      // And the bytes are the ones sent: each session echoed what it sent.
      const sent = Object.values(SESSIONS).flat().reduce((a, b) => a + b, 0);
      assert.deepEqual([log.sessions[TUNNEL].sessions, log.sessions[TUNNEL].up, log.sessions[TUNNEL].down], [4, sent, sent]);
      assert.deepEqual(e.sessionsPerTunnel[0].users, ['bob', 'carol']);
      assert.equal(e.failedSignIns.total, log.failed);
      assert.equal(log.failed, BAD_TOKENS.length);
      assert.deepEqual(Object.fromEntries(e.failedSignIns.bySource.map((s) => [s.address, s.count])), log.failedByAddress);
      assert.deepEqual(e.failedSignIns.bySource.map((s) => s.tokens), [3], 'three distinct bad tokens, one address');
      assert.deepEqual(e.grants.map((g) => [g.user, g.role, g.source]), log.grants);
      assert.deepEqual(e.removals.map((r) => r.user), log.removals);
      assert.deepEqual(e.reviews.flatMap((r) => r.reviewers.map((v) => [r.request, v.by, v.decision])), log.reviews);
      assert.deepEqual(e.reviews.map((r) => [r.request, r.outcome]).sort(), log.outcomes);
      assert.deepEqual(e.reviews.map((r) => [r.user, r.outcome]), [['carol', 'denied'], ['carol', 'approved']]);
      assert.deepEqual(e.adminActions.map((a) => [a.event, a.target]), log.admin);
      assert.deepEqual(Object.fromEntries(e.signIns.map((s) => [s.user, s.count])), log.signIns);
      assert.deepEqual(e.accessHolders.map((h) => [`${h.tunnel}/${h.user}`, h.role]), log.holders);
      assert.deepEqual(log.holders, [[`${TUNNEL}/alice`, 'owner'], [`${TUNNEL}/carol`, 'connect']]);
      assert.notEqual(e.accessHolders.find((h) => h.user === 'carol').expiresAt, null, "carol's approved access ends");

      // The gaps this scenario has, and one it has not.
      const gaps = new Set(report.controls.flatMap((c) => c.gaps.map((g) => g.id)));
      assert.ok(gaps.has('failed-sign-ins-without-follow-up'), [...gaps].join());
      assert.ok(!gaps.has('no-access-review'));
      assert.ok(!gaps.has('log-not-intact'));

      assert.equal((await admin(['audit', 'checkpoint'])).code, 0);
      const html = await admin(['report', 'compliance', '--framework', framework, '--out', file(`${framework}.html`)]);
      assert.equal(html.code, 0, html.stderr);
      const page = readFileSync(file(`${framework}.html`), 'utf8');
      assert.doesNotMatch(page, /<script/i);
      for (const c of report.controls) assert.ok(page.includes(`id="control-${c.id}"`), c.id);
      assert.match(page, new RegExp(`<td>${TUNNEL}</td><td class="num">4</td>`), 'the sessions row');

      assert.equal((await admin(['audit', 'checkpoint'])).code, 0);
      const pdf = await admin(['report', 'compliance', '--framework', framework, '--format', 'pdf', '--out', file(`${framework}.pdf`)]);
      assert.equal(pdf.code, 0, pdf.stderr);
      assert.equal(readFileSync(file(`${framework}.pdf`)).subarray(0, 5).toString(), '%PDF-');
      assert.equal(statSync(file(`${framework}.pdf`)).mode & 0o777, 0o600);
      execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', file(`${framework}.pdf`), file(`${framework}-page`)]);
      const png = ['-1.png', '-01.png', '-001.png'].map((s) => file(`${framework}-page${s}`)).find(existsSync);
      assert.ok(png, 'pdftoppm wrote page 1');
      assert.ok(statSync(png).size > 10_000, `page 1 is more than blank (${statSync(png).size} bytes)`);
      if (framework === 'soc2') copyFileSync(png, '/tmp/tether-report-soc2.png');
    });
  }

  test('usage: --framework is required and checked; no --out is a usage error', async () => {
    const missing = await admin(['report', 'compliance', '--out', file('x.html')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^tether: missing --framework: soc2, iso27001, hipaa\n/);
    const bad = await admin(['report', 'compliance', '--framework', 'pci', '--out', file('x.html')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--framework must be one of soc2, iso27001, hipaa/);
    const noOut = await admin(['report', 'compliance', '--framework', 'soc2']);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /missing --out FILE/);
    assert.ok(!existsSync(file('x.html')));
  });
});
