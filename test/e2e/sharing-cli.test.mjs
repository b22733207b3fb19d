// Sharing a tunnel with a team, end to end: the real relay, OpenSSH's sshd shared by its owner
// with `tether share`, and other users reaching it with the real ssh through `tether proxy`,
// after `tether invite` or `tether access`; and `tether members remove` cutting a live session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  cleanEnv, createUser, HANG_GUARD, Processes, requirePrograms, ssh, sshOptions, startRelay, startShare, startSshd, tempDir, tether,
} from './fixtures.mjs';

const TUNNEL = 'e2e-team';
/** An invite code: a compact JWT. */
const CODE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

describe('sharing a tunnel with tether invite, access and members', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-sharing-');
  let relay;
  let sshd;
  const tokens = {};
  /** `tether ARGS` as USER. */
  const as = (user, args) => tether(args, { relay: relay.url, token: tokens[user] });
  /** ssh through `tether proxy` as USER, running `command` on the shared machine. */
  const sshAs = (user, command) => ssh({ port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token: tokens[user] }, command);

  /** A refusal as the CLI promises it: exit 1, one line `tether: MESSAGE [CODE]`, no stack. */
  function assertRefused(r, code) {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^tether: .+ \\[${code}\\]\\n$`));
    assert.equal(r.stdout, '');
  }

  before(async () => {
    requirePrograms();
    sshd = await startSshd(procs, tmp.path);
    relay = await startRelay(procs, tmp.path);
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) tokens[name] = await createUser(relay, name);
    await startShare(procs, { url: relay.url, token: tokens.alice, tunnel: TUNNEL, targetPort: sshd.port });
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('before any invite, bob may not reach the tunnel', async () => {
    const r = await sshAs('bob', 'true');
    assert.notEqual(r.code, 0);
  });

  test('invite create → invite accept → ssh through tether proxy', async () => {
    const created = await as('alice', ['invite', 'create', TUNNEL, '--expires', '1h']);
    assert.equal(created.code, 0, created.stderr);
    const code = created.stdout.trim();
    assert.match(code, CODE);
    assert.equal(created.stdout, `${code}\n`, 'the code alone on stdout');
    assert.match(created.stderr, new RegExp(`^Invite \\S+ to tunnel ${TUNNEL} as connect, for anyone with the code: 1 use, expires \\S+$`, 'm'));
    assert.ok(created.stderr.includes(`vscode://tether-dev.tether/invite?code=${code}`), created.stderr);

    const accepted = await as('bob', ['invite', 'accept', code]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stdout, '');
    assert.equal(accepted.stderr, `You can now connect to ${TUNNEL} as connect\n`);

    const r = await sshAs('bob', 'echo "bob is in as $(whoami)"');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'bob is in as root\n');

    // tether tunnels: bob's role in the 4th column, and the same as JSON.
    const listed = await as('bob', ['tunnels']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout, `${TUNNEL}\tonline\talice\tconnect\n`);
    const json = JSON.parse((await as('bob', ['tunnels', '--json'])).stdout);
    assert.deepEqual(json.tunnels.map((t) => [t.name, t.online, t.owner, t.role]), [[TUNNEL, true, 'alice', 'connect']]);

    // The single-use code is spent: carol is refused.
    assertRefused(await as('carol', ['invite', 'accept', code]), 'TETHER_ERR_INVITE_USED_UP');
  });

  test('the view role may see the tunnel but not connect: ssh fails, the proxy names the role', async () => {
    const created = await as('alice', ['invite', 'create', TUNNEL, '--role', 'view', '--user', 'carol']);
    assert.equal(created.code, 0, created.stderr);
    // Bound to carol: nobody else may use it.
    assertRefused(await as('erin', ['invite', 'accept', created.stdout.trim()]), 'TETHER_ERR_INVITE_NOT_FOR_YOU');
    const accepted = await as('carol', ['invite', 'accept', created.stdout.trim()]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stderr, `You can now connect to ${TUNNEL} as view\n`);
    assert.equal((await as('carol', ['tunnels'])).stdout, `${TUNNEL}\tonline\talice\tview\n`);
    const r = await sshAs('carol', 'true');
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, /\bview\b.*\[TETHER_ERR_TUNNEL_FORBIDDEN\]/);
  });

  test('access request → approve → ssh; nobody approves their own request', async () => {
    const requested = await as('dave', ['access', 'request', TUNNEL, '--for', '1h30m', '--reason', 'fix the build']);
    assert.equal(requested.code, 0, requested.stderr);
    const id = requested.stdout.trim();
    assert.match(id, /^req_[\w-]+$/);
    assert.equal(requested.stdout, `${id}\n`);
    assert.match(requested.stderr, new RegExp(`^Access request ${id} is waiting for approval \\(0/1 approvals\\): dave as connect on tunnel ${TUNNEL} for 1h30m\\n$`));

    assertRefused(await as('dave', ['access', 'approve', id]), 'TETHER_ERR_REVIEW_REFUSED');
    assert.notEqual((await sshAs('dave', 'true')).code, 0, 'no access before approval');

    const pending = await as('alice', ['access', 'list', '--pending']);
    assert.equal(pending.code, 0, pending.stderr);
    assert.equal(pending.stdout, `${id}\t${TUNNEL}\tdave\tconnect\tpending\t0/1\t1h30m\n`);
    const json = JSON.parse((await as('alice', ['access', 'list', '--pending', '--json'])).stdout);
    assert.deepEqual(json.requests.map((q) => [q.id, q.reason]), [[id, 'fix the build']]);

    const approved = await as('alice', ['access', 'approve', id, '--reason', 'ok']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout, '');
    assert.match(approved.stderr, new RegExp(`^Access request ${id} is approved: dave may use tunnel ${TUNNEL} as connect until \\S+\\n$`));
    const r = await sshAs('dave', 'echo dave-ok');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'dave-ok\n');
    assert.equal((await as('alice', ['access', 'list', '--pending'])).stdout, '');
  });

  test('members lists them; members remove cuts a live ssh session within 1 s', async () => {
    const members = await as('alice', ['members', TUNNEL]);
    assert.equal(members.code, 0, members.stderr);
    const rows = members.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[3], r[4]]).sort(), [['bob', 'connect', 'active', 'invite'], ['carol', 'view', 'active', 'invite'], ['dave', 'connect', 'active', 'request']]);
    const json = JSON.parse((await as('alice', ['members', TUNNEL, '--json'])).stdout);
    assert.equal(json.owner, 'alice');
    assert.equal(json.members.length, 3);
    // Bob may not manage the tunnel.
    assertRefused(await as('bob', ['members', TUNNEL]), 'TETHER_ERR_TUNNEL_FORBIDDEN');

    // A live session of bob's: it prints a line, then waits.
    const session = procs.start('/usr/bin/ssh', ['-p', String(sshd.port), ...sshOptions({ key: sshd.key, proxyTunnel: TUNNEL }), 'root@127.0.0.1', 'echo started; exec sleep 60'], {
      env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: tokens.bob }),
    });
    await session.waitFor('stdout', /^started$/);
    const sessionEnded = session.exited.then(() => performance.now());
    const t0 = performance.now();
    const removed = await as('alice', ['members', 'remove', TUNNEL, 'bob']);
    const t1 = performance.now();
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stderr, `Removed bob from tunnel ${TUNNEL}: its open connections to it are closed\n`);
    const ended = await Promise.race([sessionEnded, new Promise((r) => setTimeout(() => r(undefined), 5000))]);
    assert.ok(ended !== undefined, 'the ssh session ended');
    const afterRemoveMs = ended - t1;
    // Measured from the start of the `tether members remove` process (node's start-up included)
    // and from its exit (negative: the session ended before the CLI process had exited).
    console.log(`# members remove: ssh ended ${Math.round(ended - t0)} ms after the CLI started, ${Math.round(afterRemoveMs)} ms after it exited (the CLI ran ${Math.round(t1 - t0)} ms)`);
    assert.ok(afterRemoveMs < 1000, `the session ended ${afterRemoveMs} ms after members remove returned`);
    assert.notEqual(await session.exited, 0);
    // What bob reads in his terminal, from tether proxy.
    assert.match(session.stderr.text, /^tether: your access to e2e-team ended \(removed from the tunnel\), so the session is closed; ask its owner if you need it again \[TETHER_ERR_TUNNEL_FORBIDDEN\]$/m);
    assert.notEqual((await sshAs('bob', 'true')).code, 0, 'bob no longer gets in');
  });

  test("an approved request's end cuts a live ssh session within 1 s of it", async () => {
    const requested = await as('erin', ['access', 'request', TUNNEL, '--for', '6s', '--reason', 'a quick look']);
    assert.equal(requested.code, 0, requested.stderr);
    const id = requested.stdout.trim();
    assert.equal((await as('alice', ['access', 'approve', id])).code, 0);
    const listed = JSON.parse((await as('erin', ['access', 'list', '--json'])).stdout);
    const until = Date.parse(listed.requests.find((q) => q.id === id).grantedUntil);
    const session = procs.start('/usr/bin/ssh', ['-p', String(sshd.port), ...sshOptions({ key: sshd.key, proxyTunnel: TUNNEL }), 'root@127.0.0.1', 'echo started; exec sleep 60'], {
      env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: tokens.erin }),
    });
    await session.waitFor('stdout', /^started$/);
    assert.ok(Date.now() < until, 'the session started before the access ends');
    await session.exited;
    const late = Date.now() - until;
    assert.match(session.stderr.text, /your access to e2e-team ended \(the access lapsed\)/);
    console.log(`# request end: ssh ended ${late} ms after the access lapsed`);
    assert.ok(late >= -50 && late < 1000, `the session ended ${late} ms after the access lapsed`);
    assert.notEqual((await sshAs('erin', 'true')).code, 0, 'erin no longer gets in');
  });

  test('block, unblock, set; tunnel set prints the settings', async () => {
    const blocked = await as('alice', ['members', 'block', TUNNEL, 'dave']);
    assert.equal(blocked.code, 0, blocked.stderr);
    assert.notEqual((await sshAs('dave', 'true')).code, 0, 'dave is blocked');
    assert.match((await as('alice', ['members', TUNNEL])).stdout, /^dave\tconnect\t\S+\tblocked\trequest$/m);
    assert.equal((await as('alice', ['members', 'unblock', TUNNEL, 'dave'])).code, 0);
    assert.equal((await sshAs('dave', 'true')).code, 0);

    const set = await as('alice', ['members', 'set', TUNNEL, 'erin', '--role', 'connect', '--expires', '2h']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stderr, /^erin is connect on tunnel e2e-team until \S+\n$/);
    assert.equal((await sshAs('erin', 'echo erin-ok')).stdout, 'erin-ok\n');

    const settings = await as('alice', ['tunnel', 'set', TUNNEL, '--approval', 'required', '--approvals', '2', '--max-duration', '1d']);
    assert.equal(settings.code, 0, settings.stderr);
    assert.equal(settings.stdout, '');
    assert.equal(settings.stderr, `Tunnel ${TUNNEL}: approval required, 2 approvals needed, longest access 1d\n`);
    // Now an invite opens a request: its id on stdout.
    const code = (await as('alice', ['invite', 'create', TUNNEL])).stdout.trim();
    const accepted = await as('bob', ['invite', 'accept', code]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /^req_[\w-]+\n$/);
    assert.match(accepted.stderr, new RegExp(`your access request ${accepted.stdout.trim()} is waiting for approval \\(0/2\\)`));
    assert.equal((await as('alice', ['tunnel', 'set', TUNNEL, '--approval', 'none'])).code, 0);
  });

  test('a revoked invite is refused, by code or by id', async () => {
    const byCode = (await as('alice', ['invite', 'create', TUNNEL, '--uses', '5'])).stdout.trim();
    const revoked = await as('alice', ['invite', 'revoke', byCode]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /^Revoked invite \S+: it can no longer be accepted/);
    assertRefused(await as('erin', ['invite', 'accept', byCode]), 'TETHER_ERR_INVITE_REVOKED');

    const byId = (await as('alice', ['invite', 'create', TUNNEL, '--role', 'view'])).stdout.trim();
    const listed = JSON.parse((await as('alice', ['invite', 'list', TUNNEL, '--json'])).stdout);
    const active = listed.invites.filter((i) => i.state === 'active');
    assert.equal(active.length, 1);
    const table = await as('alice', ['invite', 'list', TUNNEL]);
    assert.match(table.stdout, new RegExp(`^${active[0].id}\\tview\\tactive\\t0/1\\t\\S+\\t-$`, 'm'));
    assert.match(table.stdout, /^\S+\tconnect\trevoked\t0\/5\t\S+\t-$/m);
    assert.equal((await as('alice', ['invite', 'revoke', active[0].id])).code, 0);
    assertRefused(await as('erin', ['invite', 'accept', byId]), 'TETHER_ERR_INVITE_REVOKED');
  });

  test('a relay refusal is one line with its code, and a bad duration a usage error', async () => {
    // Carol (view) sees the tunnel but may not manage it.
    assertRefused(await as('carol', ['invite', 'create', TUNNEL]), 'TETHER_ERR_TUNNEL_FORBIDDEN');
    // Bob, removed, no longer sees it at all.
    assertRefused(await as('bob', ['members', TUNNEL]), 'TETHER_ERR_TUNNEL_UNKNOWN');
    const usage = await as('alice', ['invite', 'create', TUNNEL, '--expires', '3 weeks']);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, `tether: --expires must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got "3 weeks"\nRun 'tether help invite create' for usage.\n`);
  });
});
