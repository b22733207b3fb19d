// `tether proxy` driven the way ssh drives a ProxyCommand, every party a real process: stdin and
// stdout are pipes, the reader goes away, ssh is killed, the only relay goes for good, the
// sharing host is killed, and npx stands in between. Each case checks the exit status, the one
// line said (or the silence), and that no `tether proxy` process is left behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  CLI, cleanEnv, createUser, HANG_GUARD, Processes, requirePrograms, sshOptions, startRelay, startShare, startSshd, tempDir,
} from './fixtures.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** PIDs of running `tether proxy TUNNEL` processes (node itself, or npx's `sh -c` around it). */
function proxiesOf(tunnel) {
  try {
    return execFileSync('pgrep', ['-f', `proxy ${tunnel}$`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Resolves once no `tether proxy TUNNEL` runs; fails with what is left after `ms`. */
async function noneLeft(tunnel, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (proxiesOf(tunnel).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const left = proxiesOf(tunnel);
  if (left.length > 0) {
    const ps = execFileSync('ps', ['-o', 'pid,ppid,etimes,args', '-p', left.join(',')], { encoding: 'utf8' });
    for (const pid of left) process.kill(pid, 'SIGKILL');
    assert.fail(`tether proxy ${tunnel} left running:\n${ps}`);
  }
}

/** Runs `command` in a shell (pipes, as a user types them), with the relay and token set. */
function sh(command, env) {
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** An ssh session through `proxy` that prints "ready" and then runs `then`; resolves once ready. */
async function sshSession(procs, { sshd, env, proxy, then = 'sleep 60' }) {
  const args = ['-p', String(sshd.port), ...sshOptions({ key: sshd.key }), '-o', `ProxyCommand=${proxy}`, 'root@127.0.0.1', `echo ready; ${then}`];
  const proc = procs.start('/usr/bin/ssh', args, { cwd: ROOT, env });
  await proc.waitFor('stdout', /^ready$/);
  return proc;
}

const noStackTrace = (text) => assert.doesNotMatch(text, /^\s+at /m, `no stack trace in:\n${text}`);

describe('tether proxy as ssh runs it', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let sshd;
  let relay;
  let token;
  let env;
  const direct = (tunnel, flags = '') => `${process.execPath} ${CLI} proxy ${flags}${flags ? ' ' : ''}${tunnel}`;

  before(async () => {
    requirePrograms();
    sshd = await startSshd(procs, tmp.path);
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'pia');
    // npx without a prompt, as in a script (it asks only on a terminal, but say so anyway).
    env = cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: token, npm_config_yes: 'true', npm_config_update_notifier: 'false' });
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('the reader of its stdout goes away (| head): exit 0, nothing said, nothing left', async () => {
    const chatty = net.createServer((s) => {
      s.on('error', () => undefined);
      const timer = setInterval(() => s.write(`${'x'.repeat(1000)}\n`), 10);
      s.on('close', () => clearInterval(timer));
    });
    chatty.listen(0, '127.0.0.1');
    await once(chatty, 'listening');
    procs.defer(() => new Promise((r) => chatty.close(r)));
    await startShare(procs, { url: relay.url, token, tunnel: 'e2e-chatty', targetPort: chatty.address().port });
    const err = join(tmp.path, 'proxy.err');
    const r = await sh(`(printf 'SSH-2.0-OpenSSH_9.0\\r\\n'; sleep 2) | ${direct('e2e-chatty')} 2>${err} | head -c 5; echo " status=$(cat ${err} | wc -c)"`, env);
    assert.equal(r.stdout, 'xxxxx status=0\n', r.stderr);
    await noneLeft('e2e-chatty');
  });

  describe('an ssh session through it', () => {
    before(async () => {
      await startShare(procs, { url: relay.url, token, tunnel: 'e2e-px', targetPort: sshd.port });
    });

    for (const [how, proxy] of [['node', () => direct('e2e-px')], ['npx', () => 'npx tether proxy e2e-px']]) {
      test(`ssh killed (SIGKILL) mid-session, ${how}: no tether proxy left running`, async () => {
        const session = await sshSession(procs, { sshd, env, proxy: proxy() });
        assert.ok(proxiesOf('e2e-px').length > 0, 'the proxy runs during the session');
        await procs.stop(session, 'SIGKILL');
        await noneLeft('e2e-px');
      });

      test(`ssh ends normally, ${how}, ten times: exit 0 and no tether proxy left running`, async () => {
        for (let i = 0; i < 10; i++) {
          const session = await sshSession(procs, { sshd, env, proxy: proxy(), then: 'true' });
          assert.equal(await session.exited, 0, session.stderr.text);
          noStackTrace(session.stderr.text);
        }
        await noneLeft('e2e-px');
      });
    }

    test("ssh's two pipes are widened to 1 MiB, and 16 MiB go each way through them intact", async () => {
      const trace = join(tmp.path, 'proxy-pipes.trace');
      const upFile = join(tmp.path, 'proxy-up.bin');
      writeFileSync(upFile, randomBytes(16 * 1024 * 1024));
      const sha = (data) => createHash('sha256').update(data).digest('hex');
      const traced = { ...env, TETHER_DEBUG: trace };
      const ssh = (command, input) => {
        const args = ['-p', String(sshd.port), ...sshOptions({ key: sshd.key }), '-o', `ProxyCommand=${direct('e2e-px')}`, 'root@127.0.0.1', command];
        return execFileSync('/usr/bin/ssh', args, { env: traced, input, maxBuffer: 64 * 1024 * 1024 });
      };
      const up = readFileSync(upFile);
      // Up: the remote end hashes what arrived. Down: the remote end sends the file back.
      assert.equal(ssh('sha256sum', up).toString().split(' ')[0], sha(up));
      assert.equal(sha(ssh(`cat ${upFile}`)), sha(up));
      const lines = readFileSync(trace, 'utf8').split('\n').filter((l) => / pipe /.test(l));
      // Each of the two proxies (one per ssh) widened its stdin and its stdout.
      assert.equal(lines.filter((l) => / pipe widened fd=0 bytes=1048576$/.test(l)).length, 2, lines.join('\n'));
      assert.equal(lines.filter((l) => / pipe widened fd=1 bytes=1048576$/.test(l)).length, 2, lines.join('\n'));
      await noneLeft('e2e-px');
    });

    test('SIGHUP to tether proxy (what ssh sends it on exit): exit 0, the session ends at once', async () => {
      const session = await sshSession(procs, { sshd, env, proxy: direct('e2e-px') });
      const [pid] = proxiesOf('e2e-px');
      process.kill(pid, 'SIGHUP');
      assert.equal(await session.exited, 255);
      // Only ssh's own words about its transport closing: nothing from tether.
      assert.doesNotMatch(session.stderr.text, /tether/);
      noStackTrace(session.stderr.text);
      await noneLeft('e2e-px');
    });
  });

  test('the only relay goes for good: ssh ends with one line saying why and what to do', async () => {
    const other = await startRelay(procs, tmp.path, { dataDir: join(tmp.path, 'relay-gone') });
    const otherToken = await createUser(other, 'quinn');
    const otherEnv = cleanEnv({ TETHER_RELAY: other.url, TETHER_TOKEN: otherToken });
    await startShare(procs, { url: other.url, token: otherToken, tunnel: 'e2e-gone', targetPort: sshd.port });
    const session = await sshSession(procs, { sshd, env: otherEnv, proxy: direct('e2e-gone', '--resume-timeout-ms 2000') });
    await procs.stop(other.proc, 'SIGKILL');
    assert.equal(await session.exited, 255);
    noStackTrace(session.stderr.text);
    assert.match(
      session.stderr.text,
      /^tether: the connection to e2e-gone was lost: no relay could carry it for 2 s, so the session is closed; connect again once a relay is reachable \('tether status' shows them\) \[TETHER_ERR_RESUME_TIMEOUT\]$/m,
    );
    await noneLeft('e2e-gone');
  });

  test('the sharing host is killed: ssh ends with one line saying so', async () => {
    const share = await startShare(procs, { url: relay.url, token, tunnel: 'e2e-host', targetPort: sshd.port });
    const session = await sshSession(procs, { sshd, env, proxy: direct('e2e-host', '--resume-timeout-ms 2000') });
    await procs.stop(share, 'SIGKILL');
    assert.equal(await session.exited, 255);
    noStackTrace(session.stderr.text);
    assert.match(session.stderr.text, /^tether: the connection to e2e-host .+ \[TETHER_ERR_[A-Z_]+\]$/m);
    await noneLeft('e2e-host');
  });
});
