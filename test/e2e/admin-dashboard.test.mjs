/* global localStorage, sessionStorage, document -- used in code that page.evaluate() runs in the browser */
// The relay's admin dashboard (/admin) in a real Chromium (Debian's, driven by playwright-core)
// against real relays: one on SQLite, then three nodes on a real Redis. Real tunnels shared with
// `tether share`, real OpenSSH sessions through `tether proxy`. Screenshots of every page go to
// test-output/admin/ (docs/admin-dashboard.md).
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { RedisProcess, freePort as freeRedisPort } from '../../relay/dist/test-support/redis-server.js';
import {
  cleanEnv, createUser, freePort, HANG_GUARD, Processes, requirePrograms, ROOT, ssh, sshOptions, startRelay, startShare, startSshd, tempDir, until,
} from './fixtures.mjs';

const SHOTS = join(ROOT, 'test-output', 'admin');
const TUNNEL = 'e2e-dash';
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 420, height: 900 };

/** Fails loudly (never skips) without the browser, Redis or the built dashboard. */
function requireDashboardPrograms() {
  for (const [file, what] of [['/usr/bin/chromium', 'Debian package chromium'], ['/usr/bin/redis-server', 'Debian package redis-server'], [join(ROOT, 'relay/dist/dashboard/index.html'), "run 'npm run build' first"]]) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new Error(`the admin dashboard suite needs ${file} (${what})`);
    }
  }
}

/** Debian's Chromium, headless, with a fresh profile (playwright makes a temporary one per launch). */
async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page of a fresh browser context (its own cookies), failing the test on any page error. */
async function newPage(browser, errors) {
  const context = await browser.newContext({ viewport: WIDE });
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // A CSP violation or a script error is a defect of the dashboard.
    if (msg.type() === 'error' && /Content Security Policy|Uncaught/.test(msg.text())) errors.push(msg.text());
  });
  return page;
}

async function signIn(page, relayUrl, token) {
  await page.goto(`${relayUrl}/admin`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Dashboard pages' }).waitFor();
}

/** Opens a page from the navigation bar and waits for its heading. */
async function open(page, title) {
  await page.getByRole('navigation', { name: 'Dashboard pages' }).getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** A long-running real ssh session through `tether proxy` (prints session-up, then waits). */
async function sshSession(procs, { port, key, tunnel, relay, token }) {
  const proc = procs.start('/usr/bin/ssh', ['-p', String(port), ...sshOptions({ key, proxyTunnel: tunnel }), 'root@127.0.0.1', 'echo session-up; exec sleep 3600'], {
    env: cleanEnv({ TETHER_RELAY: relay, TETHER_TOKEN: token }),
  });
  await proc.waitFor('stdout', /session-up/);
  return proc;
}

const api = async (url, token, method, path, body) => {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) }, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

describe('the admin dashboard on one relay', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-admin-');
  const errors = [];
  let relay;
  let sshd;
  let alice;
  let share;
  let browser;
  let page;

  before(async () => {
    requirePrograms();
    requireDashboardPrograms();
    sshd = await startSshd(procs, tmp.path);
    relay = await startRelay(procs, tmp.path);
    alice = await createUser(relay, 'alice');
    share = await startShare(procs, { url: relay.url, token: alice, tunnel: TUNNEL, targetPort: sshd.port });
    browser = await launchBrowser();
    page = await newPage(browser, errors);
  });

  after(async () => {
    await browser?.close();
    await procs.stopAll();
    tmp.dispose();
  });

  test('the relay serves the dashboard with a strict CSP, index.html revalidated and hashed assets immutable', async () => {
    const index = await fetch(`${relay.url}/admin`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-security-policy'), "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
    const html = await index.text();
    assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style');
    const again = await fetch(`${relay.url}/admin`, { headers: { 'if-none-match': index.headers.get('etag') } });
    assert.equal(again.status, 304);
    const assets = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(assets.length, 2, html);
    for (const asset of assets) {
      const res = await fetch(`${relay.url}${asset}`);
      assert.equal(res.status, 200, asset);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', asset);
      assert.doesNotMatch(await res.text(), /https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\/[^\s"')]*\.(?:css|js|woff2?)\b/, `${asset} loads nothing remote`);
    }
  });

  test('a wrong token is refused with its code, and no cookie is set; a user who is not an admin is refused too', async () => {
    await page.goto(`${relay.url}/admin`);
    await shot(page, 'sign-in');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /TETHER_ERR_UNAUTHORIZED/);
    await page.getByLabel('Admin token').fill(alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'TETHER_ERR_FORBIDDEN' }).waitFor();
    await shot(page, 'sign-in-refused');
    assert.deepEqual((await page.context().cookies()).filter((c) => c.name === 'tether_admin'), []);
  });

  test('the admin signs in: an HttpOnly SameSite=Strict cookie, the token kept nowhere in the page', async () => {
    await signIn(page, relay.url, relay.adminToken);
    const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'tether_admin');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie, html: document.documentElement.outerHTML }));
    assert.ok(!stored.includes(relay.adminToken), 'the admin token is nowhere in the page');
    assert.ok(!stored.includes('tether_admin'), 'the cookie is not readable by script');
    // The keyboard alone: the first Tab reaches the skip link, Enter moves focus to the page's heading.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    await until(async () => (await page.evaluate(() => document.activeElement?.tagName)) === 'H1', 'the heading focused');
  });

  test('Overview lists this node with its health and version', async () => {
    await open(page, 'Overview');
    const nodes = page.locator('table.nodes tbody tr');
    await nodes.first().waitFor();
    assert.equal(await nodes.count(), 1);
    assert.match(await nodes.first().textContent(), /healthy/);
    // The live feed: at least one sample drawn.
    await page.getByRole('status').filter({ hasText: /^node / }).waitFor();
    await shot(page, 'overview');
  });

  test('the shared tunnel and a live ssh session show on Tunnels and Sessions; terminating it ends the real ssh client', async () => {
    const session = await sshSession(procs, { port: sshd.port, key: sshd.key, tunnel: TUNNEL, relay: relay.url, token: alice });
    await open(page, 'Tunnels');
    const row = page.locator(`tr[data-tunnel="${TUNNEL}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /alice/);
    assert.match(await row.textContent(), /online/);
    await shot(page, 'tunnels');
    await open(page, 'Sessions');
    const sessionRow = page.locator('tr[data-session]').filter({ hasText: TUNNEL }).filter({ hasText: 'alice' });
    await sessionRow.first().waitFor();
    await shot(page, 'sessions');
    await sessionRow.first().getByRole('button', { name: /^Terminate the session of alice/ }).click();
    const code = await session.exited;
    assert.notEqual(code, 0, 'the ssh client ended with an error once its stream was reset');
    await page.getByRole('status').filter({ hasText: /terminated/ }).waitFor();
  });

  test('a pending access request approved from Approvals lets the requester connect', async () => {
    const bob = await createUser(relay, 'bob');
    const settings = await api(relay.url, alice, 'PATCH', `/v1/tunnels/${TUNNEL}/settings`, { approval: 'required' });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    const asked = await api(relay.url, bob, 'POST', `/v1/tunnels/${TUNNEL}/requests`, { role: 'connect', reason: 'to deploy' });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const before = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token: bob }, 'true');
    assert.notEqual(before.code, 0, 'bob cannot connect before the approval');
    await open(page, 'Approvals');
    const row = page.locator(`tr[data-request="${asked.body.id}"]`);
    await row.waitFor();
    await row.getByLabel(/Reason for the review/).fill('ok for the deploy');
    await shot(page, 'approvals');
    await row.getByRole('button', { name: /^Approve bob's request/ }).click();
    await page.getByRole('status').filter({ hasText: 'approved' }).waitFor();
    const after = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token: bob }, 'echo bob-in');
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout, 'bob-in\n');
  });

  test('the audit filter narrows the rows to what was asked', async () => {
    await open(page, 'Audit');
    const rows = page.locator('table.audit tbody tr');
    await rows.first().waitFor();
    const all = await rows.count();
    // The relay checked the stored chain and its signed checkpoints.
    assert.match(await page.getByTestId('chain').textContent(), /^\s*Chain verified: \d+ records/);
    await page.getByLabel('Event').fill('admin.signed_in');
    await page.getByRole('button', { name: 'Filter' }).click();
    await until(async () => {
      const events = await page.locator('table.audit tbody tr td:nth-child(3)').allTextContents();
      return events.length > 0 && events.length < all && events.every((e) => e === 'admin.signed_in');
    }, 'only admin.signed_in rows');
    await shot(page, 'audit');
    // The export link carries the same filter.
    assert.match(await page.getByRole('link', { name: 'Export JSONL' }).getAttribute('href'), /event=admin\.signed_in.*format=jsonl|format=jsonl.*event=admin\.signed_in/);
  });

  test('a state-changing call with the cookie but without the CSRF header is refused (403) and changes nothing', async () => {
    const refused = await page.evaluate(async () => {
      const res = await fetch('/v1/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mallory' }) });
      return { status: res.status, body: await res.json() };
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'TETHER_ERR_FORBIDDEN');
    assert.match(refused.body.message, /CSRF/);
    const users = await api(relay.url, relay.adminToken, 'GET', '/v1/users');
    assert.ok(!users.body.users.some((u) => u.name === 'mallory'));
  });

  test('disabling the tunnel from Tunnels makes a new ssh through it fail', async () => {
    await open(page, 'Tunnels');
    await page.getByLabel('Reason for disabling').fill('maintenance');
    await page.getByRole('button', { name: `Disable tunnel ${TUNNEL}` }).click();
    await page.locator(`tr[data-tunnel="${TUNNEL}"]`).filter({ hasText: 'disabled' }).waitFor();
    await shot(page, 'tunnels-disabled');
    const refused = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token: alice }, 'true');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /disabled/i);

    // Enabled again: the host comes back and ssh works (some traffic for the Overview's charts).
    await page.getByRole('button', { name: `Enable tunnel ${TUNNEL}` }).click();
    await page.getByRole('status').filter({ hasText: `${TUNNEL} enabled` }).waitFor();
    if (share.child.exitCode !== null || share.child.signalCode !== null) share = await startShare(procs, { url: relay.url, token: alice, tunnel: TUNNEL, targetPort: sshd.port });
    const back = await until(async () => {
      const r = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token: alice }, 'head -c 2000000 /dev/zero | base64 | wc -c');
      return r.code === 0 && r;
    }, 'ssh through the tunnel enabled again');
    assert.match(back.stdout, /^\d+\n$/);
  });

  test('Users: a user created on the page and made admin signs in; blocked, its dashboard session ends', async () => {
    await open(page, 'Users');
    await page.getByLabel('New user').fill('carol');
    await page.getByRole('button', { name: 'Create' }).click();
    const token = (await page.locator('code.secret').textContent()).trim();
    assert.match(token, /^\S{20,}$/);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByLabel('Role of carol').selectOption('admin');
    await page.getByRole('status').filter({ hasText: "carol's role changed" }).waitFor();
    const carolPage = await newPage(browser, errors);
    await signIn(carolPage, relay.url, token);
    assert.match(await carolPage.locator('.who').textContent(), /carol/);
    await page.getByRole('button', { name: 'Block carol' }).click();
    await page.locator('tr[data-user="carol"]').filter({ hasText: 'blocked' }).waitFor();
    await shot(page, 'users');
    // carol's next call is refused: the page goes back to the sign-in form.
    await open(carolPage, 'Tunnels').catch(() => undefined);
    await carolPage.getByLabel('Admin token').waitFor();
    await carolPage.context().close();
  });

  test('the Overview\'s live charts draw the traffic of real ssh sessions', async () => {
    await open(page, 'Overview');
    await page.getByTestId('last-sample').waitFor();
    // A few sessions moving a few MiB each while the page watches.
    for (let i = 0; i < 3; i++) {
      // The bytes come back through the tunnel (ssh's stdout, hashed by the fixture, not kept).
      const r = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token: alice }, 'head -c 4000000 /dev/urandom', { keepStdout: false });
      assert.equal(r.code, 0, r.stderr);
    }
    // The samples of those seconds reached the page: 12 MB came down through the relay (a link's
    // bytes in are another's bytes out), counted by the samples' totals, whatever their timing.
    await until(async () => {
      const m = /^In the window: ([\d.]+) MiB in and ([\d.]+) MiB out through this node/.exec((await page.getByTestId('window').textContent()).trim());
      return m && Number(m[1]) >= 11 && Number(m[2]) >= 11;
    }, 'the sessions\' bytes in the live samples');
    await shot(page, 'overview-live');
  });

  test('every page, at 1280x800 and in a narrow window, without a script or CSP error', async () => {
    for (const [title, name] of [['Users', 'users-after'], ['Analytics', 'analytics'], ['Rate limits', 'rate-limits'], ['Overview', 'overview-after'], ['Sessions', 'sessions-after'], ['Approvals', 'approvals-after']]) {
      await open(page, title);
      // Wait for the page's data (or its coded error) before the picture.
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await shot(page, name);
    }
    await page.setViewportSize(NARROW);
    await open(page, 'Tunnels');
    await shot(page, 'narrow-tunnels');
    await open(page, 'Overview');
    await shot(page, 'narrow-overview');
    await page.setViewportSize(WIDE);
    assert.deepEqual(errors, []);
  });

  test('signing out clears the cookie, is audited, and the old page can do nothing more', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    assert.deepEqual((await page.context().cookies()).filter((c) => c.name === 'tether_admin'), []);
    const after = await page.evaluate(async () => (await fetch('/v1/users')).status);
    assert.equal(after, 401);
    const audit = await api(relay.url, relay.adminToken, 'GET', '/v1/audit?event=admin.signed_out');
    assert.equal(audit.body.entries.length, 1);
    assert.equal(audit.body.entries[0].actor, 'admin');
  });
});

describe('the admin dashboard on a three-node cluster on Redis', HANG_GUARD, () => {
  const ADMIN_TOKEN = 'e2e-admin-token-of-the-dashboard';
  const SECRET = 'e2e-cluster-secret-dashboard-0123';
  const procs = new Processes();
  const tmp = tempDir('tether-admin-cluster-');
  const nodes = {};
  const errors = [];
  let sshd;
  let alice;
  let browser;
  let page;

  before(async () => {
    requirePrograms();
    requireDashboardPrograms();
    const redis = new RedisProcess(await freeRedisPort(), mkdtempSync(join(tmpdir(), 'tether-redis-')));
    await redis.start();
    procs.defer(() => redis.stop());
    sshd = await startSshd(procs, tmp.path);
    for (const name of ['one', 'two', 'three']) {
      const relay = await startRelay(procs, tmp.path, { port: await freePort(), dataDir: join(tmp.path, name), args: ['--redis', redis.url, '--node-id', `e2e-${name}`], env: { TETHER_CLUSTER_SECRET: SECRET }, adminToken: ADMIN_TOKEN });
      nodes[name] = relay;
    }
    alice = await createUser(nodes.one, 'alice');
    await startShare(procs, { url: nodes.two.url, token: alice, tunnel: 'c-box', targetPort: sshd.port });
    browser = await launchBrowser();
    page = await newPage(browser, errors);
  });

  after(async () => {
    await browser?.close();
    await procs.stopAll();
    tmp.dispose();
  });

  test('signed in on node one, the Overview lists the three nodes', async () => {
    await signIn(page, nodes.one.url, ADMIN_TOKEN);
    await open(page, 'Overview');
    await until(async () => (await page.locator('table.nodes tbody tr').count()) === 3, 'three nodes listed');
    const text = await page.locator('table.nodes').textContent();
    for (const id of ['e2e-one', 'e2e-two', 'e2e-three']) assert.ok(text.includes(id), id);
    await shot(page, 'cluster-overview');
  });

  test('the session cookie of node one is accepted by node two (one shared secret)', async () => {
    const cookies = await page.context().cookies(nodes.one.url);
    const cookie = cookies.find((c) => c.name === 'tether_admin');
    const res = await fetch(`${nodes.two.url}/admin/api/session`, { headers: { cookie: `tether_admin=${cookie.value}` } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).name, 'admin');
  });

  test('a session through node three to a tunnel hosted on node two shows on node one, and terminating it ends the ssh client', async () => {
    const session = await sshSession(procs, { port: sshd.port, key: sshd.key, tunnel: 'c-box', relay: nodes.three.url, token: alice });
    await open(page, 'Sessions');
    const row = page.locator('tr[data-session]').filter({ hasText: 'c-box' });
    await until(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return (await row.count()) > 0;
    }, 'the cross-node session listed on node one');
    assert.match(await row.first().textContent(), /e2e-three/);
    await shot(page, 'cluster-sessions');
    await row.first().getByRole('button', { name: /^Terminate the session of alice/ }).click();
    assert.notEqual(await session.exited, 0);
    assert.deepEqual(errors, []);
  });
});
