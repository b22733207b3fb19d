// The relay admin's commands, every party a real process: `tether session list|end` sees and
// ends a live connection through `tether connect`, `tether tunnel disable|enable` stops and
// allows a real `tether share`, `tether user block|unblock|role` locks a user out and lets it in.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import {
  CLI, cleanEnv, createUser, echoServer, HANG_GUARD, Processes, requirePrograms, startConnect, startRelay, startShare, tempDir, tether, until,
} from './fixtures.mjs';

describe('tether session, tunnel disable and user block against a real relay', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-admin-cli-');
  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('a live connection is listed and ended; a disabled tunnel stops its share and refuses it; a blocked user is locked out', async () => {
    requirePrograms();
    const relay = await startRelay(procs, tmp.path);
    const admin = (args) => tether(args, { relay: relay.url, token: relay.adminToken });
    const token = await createUser(relay, 'ana');
    const echo = await echoServer();
    procs.defer(() => new Promise((r) => echo.close(r)));
    const share = await startShare(procs, { url: relay.url, token, tunnel: 'cli-web', targetPort: echo.address().port });
    const { port } = await startConnect(procs, { url: relay.url, token, tunnel: 'cli-web' });

    // A connection held open through the tunnel, with bytes both ways.
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write('hello through the relay\n');
    await once(socket, 'data');
    const closed = new Promise((resolve) => socket.once('close', resolve));

    const listed = await until(async () => {
      const r = await admin(['session', 'list', '--tunnel', 'cli-web']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim() ? r.stdout.trim().split('\n') : undefined;
    }, 'the session to be listed');
    assert.equal(listed.length, 1);
    const [id, tunnel, user, source, path, startedAt, up, down] = listed[0].split('\t');
    assert.equal(tunnel, 'cli-web');
    assert.equal(user, 'ana');
    assert.equal(source, '127.0.0.1');
    assert.match(path, /^node-/);
    assert.ok(!Number.isNaN(Date.parse(startedAt)));
    assert.equal(Number(up), 24);
    assert.equal(Number(down), 24);

    const ended = await admin(['session', 'end', id]);
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stderr, /^Ended session /);
    await closed;
    const again = await admin(['session', 'end', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /it has ended already \[TETHER_ERR_NOT_FOUND\]/);
    // Not the admin: refused with a code.
    const notAdmin = await tether(['session', 'list'], { relay: relay.url, token });
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /\[TETHER_ERR_FORBIDDEN\]/);

    // Disable: the share stops with a sentence, connects are refused; enable: sharing works again.
    const disabled = await admin(['tunnel', 'disable', 'cli-web', '--reason', 'abuse report #12']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(await share.waitFor('stderr', /^tether: stopped sharing/), /the relay admin disabled this tunnel.*\[TETHER_ERR_TUNNEL_DISABLED\]$/);
    assert.equal(await share.exited, 1);
    const refused = procs.start(process.execPath, [CLI, 'share', 'cli-web', '--target', `127.0.0.1:${echo.address().port}`], { env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: token }) });
    assert.match(await refused.waitFor('stderr', /^tether: /), /disabled by the relay admin \(abuse report #12\).*\[TETHER_ERR_TUNNEL_DISABLED\]$/);
    assert.equal(await refused.exited, 1);
    assert.equal((await admin(['tunnel', 'enable', 'cli-web'])).code, 0);
    const back = await startShare(procs, { url: relay.url, token, tunnel: 'cli-web', targetPort: echo.address().port });

    // Block: the share is cut and its token refused, saying why; unblock and a role.
    assert.equal((await admin(['user', 'block', 'ana'])).code, 0);
    assert.match(await back.waitFor('stderr', /^tether: stopped sharing/), /\[TETHER_ERR_(USER_BLOCKED|UNAUTHORIZED)\]$/);
    const blocked = await tether(['tunnels'], { relay: relay.url, token });
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /user ana is blocked on this relay .*ask the relay admin to unblock it \[TETHER_ERR_USER_BLOCKED\]/);
    const users = await admin(['user', 'list']);
    assert.match(users.stdout, /^ana\t\S+\tmember\tblocked since \S+$/m);
    assert.equal((await admin(['user', 'unblock', 'ana'])).code, 0);
    assert.equal((await admin(['user', 'role', 'ana', 'admin'])).code, 0);
    const asAdmin = await tether(['session', 'list'], { relay: relay.url, token });
    assert.equal(asAdmin.code, 0, asAdmin.stderr);
    const badRole = await admin(['user', 'role', 'ana', 'owner']);
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /the role is admin or member, not owner/);
  });
});
