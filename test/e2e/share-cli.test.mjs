// `tether share` as its user sees it, every party a real process: it waits for a relay that is
// not up yet, says when it loses one and when it is back, says when the target refuses
// connections, and stops with a sentence when its token is replaced.
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CLI, cleanEnv, createUser, freePort, HANG_GUARD, Processes, requirePrograms, startRelay, startShare, tempDir, tether,
} from './fixtures.mjs';

/** Starts `tether share` without waiting for "Sharing" (the relay may not be up). */
function share(procs, { url, token, tunnel, targetPort }) {
  return procs.start(process.execPath, [CLI, 'share', tunnel, '--target', `127.0.0.1:${targetPort}`], { env: cleanEnv({ TETHER_RELAY: url, TETHER_TOKEN: token }) });
}

/** One connection to `port`: resolves with what it read before the far side closed. */
function connectAndRead(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

describe('tether share and its relay', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('a relay that is not up yet is waited for; a lost relay is reported, then its return', async () => {
    requirePrograms();
    const dataDir = join(tmp.path, 'relay-a');
    const port = await freePort();
    let relay = await startRelay(procs, tmp.path, { dataDir, port });
    const token = await createUser(relay, 'erin');
    assert.equal(await procs.stop(relay.proc, 'SIGTERM'), 0);

    const target = net.createServer((s) => s.on('error', () => undefined).end('hello\n'));
    target.listen(0, '127.0.0.1');
    await new Promise((r) => target.once('listening', r));
    procs.defer(() => new Promise((r) => target.close(r)));
    const proc = share(procs, { url: relay.url, token, tunnel: 'e2e-wait', targetPort: target.address().port });
    assert.match(await proc.waitFor('stderr', /^cannot reach relay yet/), /^cannot reach relay yet: .+ \[TETHER_ERR_RELAY_UNREACHABLE\]; retrying in [\d.]+ s$/);
    assert.equal(proc.child.exitCode, null, 'share waits for the relay');

    relay = await startRelay(procs, tmp.path, { dataDir, port });
    await proc.waitFor('stderr', /^Sharing 127\.0\.0\.1:\d+ as tunnel e2e-wait via /);

    assert.equal(await procs.stop(relay.proc, 'SIGTERM'), 0);
    assert.match(await proc.waitFor('stderr', /^disconnected from relay/), /\[TETHER_ERR_GOING_AWAY\]; retrying in [\d.]+ s$/);
    assert.match(await proc.waitFor('stderr', /^disconnected from relay: .*TETHER_ERR_RELAY_UNREACHABLE/), /^disconnected from relay: .+ \[TETHER_ERR_RELAY_UNREACHABLE\]; retrying in [\d.]+ s$/);
    relay = await startRelay(procs, tmp.path, { dataDir, port });
    await proc.waitFor('stderr', /^reconnected to relay: sharing again$/);
    // The relay's tunnel list may lag its registry by its cache's second: ask until it agrees.
    let listed = '';
    for (let i = 0; i < 50 && !/^e2e-wait\tonline\terin\towner$/m.test(listed); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      listed = (await tether(['tunnels'], { relay: relay.url, token })).stdout;
    }
    assert.match(listed, /^e2e-wait\tonline\terin\towner$/m);
    assert.equal(await procs.stop(proc, 'SIGTERM'), 0, proc.stderr.text);
    assert.doesNotMatch(proc.stderr.text, /^\s+at /m);
  });

  test('a target where nothing listens: a warning at start, and a line when a connection is refused', async () => {
    const relay = await startRelay(procs, tmp.path, { dataDir: join(tmp.path, 'relay-b') });
    const token = await createUser(relay, 'finn');
    const targetPort = await freePort();
    const proc = await startShare(procs, { url: relay.url, token, tunnel: 'e2e-nothing', targetPort });
    assert.match(proc.stderr.text, new RegExp(`^warning: nothing listens on 127\\.0\\.0\\.1:${targetPort} yet; connections through e2e-nothing are refused until something does$`, 'm'));
    const connect = procs.start(process.execPath, [CLI, 'connect', 'e2e-nothing', '--listen', '127.0.0.1:0'], { env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: token }) });
    const listening = await connect.waitFor('stderr', /^Listening on /);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)[1]);
    assert.equal(await connectAndRead(port), '');
    const line = await proc.waitFor('stderr', /^a connection through the tunnel failed/);
    assert.equal(line, `a connection through the tunnel failed: target 127.0.0.1:${targetPort} refused the connection; nothing listens on 127.0.0.1:${targetPort}: start the service there, or share the right port with --target [TETHER_ERR_TARGET_REFUSED]`);
  });

  test("the user's token replaced while sharing: share stops with a sentence and exit 1", async () => {
    const relay = await startRelay(procs, tmp.path, { dataDir: join(tmp.path, 'relay-c') });
    const token = await createUser(relay, 'gail');
    const proc = await startShare(procs, { url: relay.url, token, tunnel: 'e2e-rotated', targetPort: await freePort() });
    const rotated = await tether(['user', 'token', 'gail'], { relay: relay.url, token: relay.adminToken });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(await proc.exited, 1, proc.stderr.text);
    assert.match(proc.stderr.text, /^tether: stopped sharing e2e-rotated: .+ \[TETHER_ERR_UNAUTHORIZED\]$/m);
    assert.doesNotMatch(proc.stderr.text, /^\s+at /m);
  });
});
