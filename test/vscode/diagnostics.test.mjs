// The diagnostics panel of the packaged extension in a real VS Code (code-server): two `tether
// relay` processes over one data dir, the first one reached through a TCP proxy that holds every
// chunk DELAY_MS each way (so any RTT measured through it is at least 2 × DELAY_MS: a figure the
// panel could not make up), Debian's sshd shared from the window, a local listener and an SSH
// terminal forwarding a real ssh-agent. The panel shows the sessions' RTT (checked against the
// delay and against the relay's own PING measurements), the path and throughput of each
// connection, agent forwarding; then the proxied relay is killed and the panel shows the
// failover and the stream resumes; then the colour theme changes and so do the panel's colours;
// then Export Diagnostics writes a bundle without the token. Screenshots go to test-output/vscode/.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, createUser, Processes, requirePrograms, run, startRelay, startSshd, tempDir, waitForSocket } from '../e2e/fixtures.mjs';
import { banner, HANG_GUARD, tetherVsix, UI_TIMEOUT_MS, VSCode } from './harness.mjs';

const TUNNEL = 'laptop';
/** Added to every chunk in each direction by the proxy in front of the first relay. */
const DELAY_MS = 100;

/**
 * A TCP proxy to 127.0.0.1:`port` that delivers every chunk no sooner than `delayMs` after it
 * arrived, both ways and in order (a slow network path). Node's timers may fire up to a
 * millisecond early against the monotonic clock, so each direction keeps a queue and a chunk
 * leaves only once performance.now() says its time has come. Each side closes when the other does.
 */
async function delayProxy(port, delayMs) {
  const sockets = new Set();
  const pipe = (from, to) => {
    const queue = [];
    let timer;
    const pump = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0].due <= performance.now()) {
        const { chunk } = queue.shift();
        if (chunk === 'end') to.end();
        else if (chunk === 'close') to.destroy();
        else if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(pump, Math.max(1, Math.ceil(queue[0].due - performance.now())));
    };
    const push = (chunk) => {
      queue.push({ due: performance.now() + delayMs, chunk });
      timer ??= setTimeout(pump, delayMs);
    };
    from.on('data', push);
    from.on('end', () => push('end'));
    from.on('close', () => push('close'));
  };
  const server = net.createServer((down) => {
    const up = net.connect({ host: '127.0.0.1', port });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    pipe(down, up);
    pipe(up, down);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** Mean RTT (ms) of the relay's own PINGs per link role, from its Prometheus /metrics. */
async function relayRtt(relay) {
  const res = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${relay.adminToken}` } });
  assert.equal(res.status, 200, `GET ${relay.url}/metrics: ${res.status}`);
  const text = await res.text();
  const value = (name, role) => Number(new RegExp(`^${name}\\{[^}]*role="${role}"[^}]*\\} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const roles = [...new Set([...text.matchAll(/^tether_link_rtt_seconds_count\{[^}]*role="([^"]+)"/gm)].map((m) => m[1]))];
  return Object.fromEntries(roles.map((role) => [role, { count: value('tether_link_rtt_seconds_count', role), meanMs: (value('tether_link_rtt_seconds_sum', role) / value('tether_link_rtt_seconds_count', role)) * 1000 }]));
}

describe('Tether in a real VS Code: the diagnostics panel shows measured RTT, paths, agent forwarding, a failover, and follows the theme', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-vscode-diagnostics-');
  const agentSocket = join(dir.path, 'agent.sock');
  let relayA;
  let relayANode;
  let relayB;
  let proxyA;
  let sshd;
  let token;
  let vscode;
  let listenPort;
  /** A connection through the listener kept open for the panel's path. */
  let held;

  before(async () => {
    requirePrograms();
    const vsix = tetherVsix();
    // One after the other: the second relay opens the user store the first one created.
    relayA = await startRelay(procs, dir.path);
    relayB = await startRelay(procs, dir.path);
    proxyA = await delayProxy(Number(new URL(relayA.url).port), DELAY_MS);
    sshd = await startSshd(procs, dir.path);
    token = await createUser(relayA, 'alice');
    // Relay A's node id, as its admin API (and its answer to every upgrade) names it.
    const overview = await fetch(`${relayA.url}/v1/admin/overview`, { headers: { authorization: `Bearer ${relayA.adminToken}` } });
    assert.equal(overview.status, 200);
    relayANode = (await overview.json()).node;

    // A real ssh-agent holding the only key the sshd accepts: the terminal logs in through it and forwards it.
    const key = join(dir.path, 'agent_key');
    const gen = await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tether-vscode-diagnostics', '-f', key]);
    assert.equal(gen.code, 0, gen.stderr);
    writeFileSync(join(dir.path, 'authorized_keys'), readFileSync(`${key}.pub`));
    const agent = procs.start('/usr/bin/ssh-agent', ['-D', '-a', agentSocket], { env: cleanEnv() });
    await waitForSocket(agentSocket, agent.exited, UI_TIMEOUT_MS);
    const added = await run('/usr/bin/ssh-add', [key], { env: cleanEnv({ SSH_AUTH_SOCK: agentSocket }) });
    assert.equal(added.code, 0, `ssh-add: ${added.stderr}`);

    vscode = await new VSCode({
      vsix,
      name: 'diagnostics',
      settings: {
        'tether.relayUrl': proxyA.url,
        'tether.relays': [proxyA.url, relayB.url],
        'tether.ssh.targetPort': sshd.port,
        'tether.ssh.user': 'root',
        'tether.agent.forward': true,
        'tether.agent.socketPath': agentSocket,
        'tether.logLevel': 'debug',
        'workbench.colorTheme': 'Default Dark Modern',
      },
    }).start();
    await vscode.waitForStatusBarItem(/Tether: not signed in/);
  });

  after(async () => {
    try {
      held?.destroy();
      await vscode?.stop();
    } finally {
      try {
        proxyA?.close();
        await procs.stopAll();
      } finally {
        dir.dispose();
      }
    }
  });

  const withLogs = (step) => vscode.withLogs(step);
  const panel = () => vscode.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  const pool = (label) => panel().locator(`.pool[data-pool="${label}"]`);

  /** Polls `read` until `check` accepts its value; returns that value. */
  async function until(read, check, what) {
    const deadline = Date.now() + UI_TIMEOUT_MS;
    let value;
    for (;;) {
      value = await read().catch(() => undefined);
      if (value !== undefined && check(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: never happened (last seen: ${JSON.stringify(value)})`);
      await vscode.page.waitForTimeout(250);
    }
  }

  /**
   * Screenshots of the whole panel as a person would scroll through it: the terminal panel is
   * hidden first (it stays open), then each section is brought into view.
   */
  async function shots(step) {
    await vscode.clearToasts().catch(() => undefined);
    await vscode.runCommand('View: Hide Panel');
    await vscode.page.locator('.part.panel').waitFor({ state: 'hidden' });
    for (const [name, section] of [['relays', 'Relays'], ['latency', 'Latency'], ['connections', 'Connections'], ['errors', 'Recent errors']]) {
      await panel().locator(`vscode-collapsible[heading="${section}"]`).evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await vscode.screenshot(`panel-${step}-${name}`);
    }
    await panel().locator('header').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await vscode.runCommand('View: Toggle Panel Visibility');
    await vscode.page.locator('.part.panel').waitFor({ state: 'visible' });
  }

  const rttOf = async (label, which) => Number(await pool(label).locator(`.rtt-${which}`).getAttribute('data-rtt-ms', { timeout: 2000 }));

  test('sign in, share the sshd through the slow relay, connect, open an SSH terminal that forwards the agent', () => withLogs(async () => {
    await vscode.signInAndShare({ relayUrl: proxyA.url, token, tunnel: TUNNEL, sshPort: sshd.port });
    await vscode.clearToasts();
    await vscode.runCommand('Tether: Connect to Tunnel…');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    const toast = await vscode.waitForToast(new RegExp(`${TUNNEL} is on 127\\.0\\.0\\.1:\\d+`));
    listenPort = Number(/127\.0\.0\.1:(\d+)/.exec(await toast.innerText())[1]);
    assert.match(await banner(listenPort), /^SSH-2\.0-OpenSSH/);
    // One connection through the listener stays open (an SSH server waiting for our hello): a live stream.
    held = net.connect({ host: '127.0.0.1', port: listenPort });
    held.on('error', () => undefined);
    await once(held, 'data');
    await vscode.clearToasts();

    await vscode.runCommand('Tether: Open SSH Terminal');
    await vscode.pickItem(TUNNEL, { prompt: /Tunnel/ });
    await vscode.waitForDialog(/authenticity of host/);
    await vscode.answerDialog('Accept and Save');
    await vscode.page.locator('.terminal-wrapper.active .xterm').waitFor();
    await vscode.waitForTerminalText(/[#$] ?$/);
    await vscode.typeInTerminal('ssh-add -l | grep -c tether-vscode-diagnostics');
    await vscode.waitForTerminalText(/^1$/m);
  }));

  test('Show Diagnostics: the RTT shown is the sessions\' measured RTT (at least the 2 × 100 ms the proxy adds, like the relay\'s own PINGs)', () => withLogs(async () => {
    await vscode.runCommand('Tether: Show Diagnostics');
    await panel().locator('header h2', { hasText: 'Tether Diagnostics' }).waitFor({ timeout: UI_TIMEOUT_MS });
    // Output through the terminal: throughput on its connection.
    await vscode.page.locator('.terminal-wrapper .xterm').first().click().catch(() => undefined);
    await vscode.page.keyboard.type('seq 1 20000 | tail -n 3');
    await vscode.page.keyboard.press('Enter');
    await vscode.typeInTerminal('seq 1 40000');

    const lowest = await until(() => rttOf('connections', 'min'), (v) => v > 0, 'the connections pool shows a measured RTT');
    const smoothed = await rttOf('connections', 'now');
    const last = await rttOf('connections', 'last');
    const sharingLowest = await until(() => rttOf(`sharing ${TUNNEL}`, 'min'), (v) => v > 0, 'the share\'s pool shows a measured RTT');
    const relay = await relayRtt(relayA);
    console.log(`diagnostics: panel RTT of the connections' session: smoothed ${smoothed} ms, last ${last} ms, lowest ${lowest} ms; the share's lowest ${sharingLowest} ms; relay A's own PINGs: ${JSON.stringify(relay)}`);
    // Through the proxy no round trip can take less than 2 × DELAY_MS: a number that was not
    // measured on this path (a default, a loopback figure, a made-up one) would be below it.
    for (const [what, value] of [['lowest', lowest], ['smoothed', smoothed], ['last', last], ['sharing lowest', sharingLowest]]) {
      assert.ok(value >= 2 * DELAY_MS, `${what} RTT ${value} ms is at least the ${2 * DELAY_MS} ms the proxy adds`);
    }
    // The relay measured the same path from its side with its own PINGs.
    const measured = Object.values(relay).filter((r) => r.count > 0);
    assert.ok(measured.length > 0, `relay A measured RTT on its links: ${JSON.stringify(relay)}`);
    for (const r of measured) assert.ok(r.meanMs >= 2 * DELAY_MS, `relay A's mean RTT ${r.meanMs} ms is at least ${2 * DELAY_MS} ms too`);

    // The relays of the pool, the active one first in preference; the histogram counts PINGs.
    const hostA = proxyA.url.replace('http://', '');
    const hostB = relayB.url.replace('http://', '');
    await until(() => pool('connections').locator('tr.active td').first().innerText({ timeout: 2000 }), (t) => t.includes(hostA), 'the proxied relay is the active one');
    await until(() => panel().locator('figcaption', { hasText: 'RTT histogram' }).innerText({ timeout: 2000 }), (t) => /\(ms, \d+ PINGs\)/.test(t), 'the histogram counts PINGs');
    // The path of each connection: the listener's port and the terminal, through the proxied relay
    // (and the relay node that took the link, as its upgrade answer named it), to the tunnel.
    const via = `${hostA} (node ${relayANode})`;
    await until(() => panel().locator(`tr[data-connection] td.path`).allInnerTexts(), (paths) => paths.some((p) => p === `127.0.0.1:${listenPort} → ${via} → ${TUNNEL}`) && paths.some((p) => p === `SSH terminal → ${via} → ${TUNNEL}`), 'both paths show');
    // Agent forwarding of the terminal: asked, ssh-agent found, forwarded now.
    const agentRow = await until(() => panel().locator('table.agents tbody tr').first().innerText({ timeout: 2000 }), (t) => /SSH: laptop/.test(t) && /\byes\b[\s\S]*ssh-agent[\s\S]*\byes\b/.test(t), 'the agent forwarding row says forwarded');
    assert.doesNotMatch(agentRow, /none found/);
    // The terminal's output crossed the tunnel: its connection shows bytes and a rate.
    await until(() => panel().locator('tr[data-connection^="terminal-"] td.num').nth(1).innerText({ timeout: 2000 }), (t) => !/^0 B/.test(t), 'the terminal connection counted bytes');
    assert.ok(hostB, 'relay B is configured');
    await shots('slow-relay');
  }));

  test('SIGKILL the active relay: the panel shows the failover to the other relay and the streams resuming', () => withLogs(async () => {
    const hostA = proxyA.url.replace('http://', '');
    const hostB = relayB.url.replace('http://', '');
    await procs.stop(relayA.proc, 'SIGKILL');
    const failover = await until(
      () => panel().locator('.event-failover').allInnerTexts(),
      (texts) => texts.some((t) => t.includes(`new streams go to ${relayB.url} (failover: ${proxyA.url} lost`) && t.includes('connections')),
      'the timeline shows the failover of the connections\' pool',
    );
    console.log(`diagnostics: timeline shows ${failover.join(' | ')}`);
    await until(() => pool('connections').locator('tr.active td').first().innerText({ timeout: 2000 }), (t) => t.includes(hostB), 'the other relay is the active one');
    const stateOfA = await until(() => pool('connections').locator('tbody tr', { hasText: hostA }).locator('.state').innerText({ timeout: 2000 }), (t) => t !== 'up', 'the killed relay is not up');
    assert.match(stateOfA, /down|connecting|failed/);
    await until(() => panel().locator('.event-resumed').count(), (n) => n > 0, 'a stream resumed through the other relay');
    await until(() => panel().locator('vscode-collapsible').filter({ hasText: 'Failovers and resumes' }).getAttribute('heading'), (h) => /\([1-9]\d* failovers?, [1-9]\d* resumes?\)/.test(h), 'the section counts failovers and resumes');
    // The errors list has the code of the loss and what to do.
    await until(() => panel().locator('table.errors tbody tr').allInnerTexts(), (rows) => rows.some((r) => /TETHER_ERR_\w+/.test(r) && /relay/.test(r)), 'the loss is listed with its code');
    // The terminal still works through the other relay.
    await vscode.typeInTerminal('echo "after-$((40 + 2))"');
    await vscode.waitForTerminalText(/^after-42$/m);
    await shots('after-failover');
  }));

  test('the panel follows the colour theme', () => withLogs(async () => {
    const colours = () => panel().locator('body').evaluate((b) => {
      const style = globalThis.getComputedStyle(b);
      const rtt = b.querySelector('.rtt-now');
      return { background: style.backgroundColor, text: style.color, rtt: rtt ? globalThis.getComputedStyle(rtt).color : '' };
    });
    const dark = await colours();
    await vscode.runCommand('Preferences: Color Theme');
    await vscode.pickItem(/^Light Modern$/);
    const light = await until(colours, (c) => c.background !== dark.background, 'the panel background changes with the theme');
    console.log(`diagnostics: panel colours dark ${JSON.stringify(dark)} → light ${JSON.stringify(light)}`);
    assert.notEqual(light.text, dark.text, 'the text colour follows the theme');
    await shots('light-theme');
  }));

  test('Export Diagnostics writes the bundle where the user says, without the token', () => withLogs(async () => {
    const target = join(vscode.folder, 'bundle.json');
    const mark = vscode.logMark();
    await vscode.runCommand('Tether: Export Diagnostics');
    // code-server's save dialog is a quick input holding the proposed path: wait for it, then type ours.
    const input = vscode.page.locator('.quick-input-widget input.input');
    await until(() => input.inputValue({ timeout: 2000 }), (v) => /tether-diagnostics-[\w-]+\.json$/.test(v), 'the save dialog proposes a file name');
    await input.fill(target);
    await until(() => input.inputValue({ timeout: 2000 }), (v) => v === target, 'the save dialog holds our path');
    await input.press('Enter');
    await vscode.waitForExtensionLog(/diagnostics exported to .*bundle\.json/, { mark });
    const text = readFileSync(target, 'utf8');
    assert.ok(!text.includes(token), 'the token is not in the bundle');
    assert.ok(!text.includes('tth_'), 'no relay token is in the bundle');
    const bundle = JSON.parse(text);
    assert.equal(bundle.format, 'tether-diagnostics/1');
    assert.equal(bundle.versions.vscode, '1.100.3');
    assert.ok(bundle.events.some((e) => e.kind === 'failover'), 'the failover is in the bundle');
    assert.ok(bundle.pools.some((p) => p.label === 'connections'), 'the pools are in the bundle');
    assert.deepEqual(bundle.settings.relays, [proxyA.url, relayB.url]);
  }));
});
