// `tether service`: the systemd user unit that keeps a share running with VS Code closed. systemd
// does not run as PID 1 here, so the unit is checked by `systemd-analyze verify` and its
// ExecStart is run as systemd would run it (words unquoted, the EnvironmentFile's variables set):
// that process shares the tunnel, and a connection through the relay reaches the target.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_NODE_FLAGS } from '../../extension/dist/core/cli-node-flags.js';
import { CLI, cleanEnv, createUser, HANG_GUARD, Processes, run, startConnect, startRelay, tempDir } from './fixtures.mjs';

/** ExecStart's words as systemd reads them: "…" with \-escapes, then %% → % and $$ → $. */
function execWords(line) {
  const words = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const word = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
    words.push(word.replace(/%%/g, '%').replace(/\$\$/g, '$'));
  }
  return words;
}

/** An EnvironmentFile's KEY="value" lines. */
function envFileVars(text) {
  const vars = {};
  for (const m of text.matchAll(/^([A-Z_]+)="((?:[^"\\]|\\.)*)"$/gm)) vars[m[1]] = m[2].replace(/\\(.)/g, '$1');
  return vars;
}

describe('tether service: a share that outlives the editor, as a systemd user unit', HANG_GUARD, () => {
  const procs = new Processes();
  const dir = tempDir('tether-service-');
  const config = join(dir.path, 'config');
  let relay;
  let token;
  let target;
  const service = (args, env = {}) => run(process.execPath, [CLI, 'service', ...args], { env: cleanEnv({ XDG_CONFIG_HOME: config, ...env }) });

  before(async () => {
    relay = await startRelay(procs, dir.path);
    token = await createUser(relay, 'alice');
    target = net.createServer((socket) => socket.on('error', () => undefined).end('hello from the target\n'));
    await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    target?.close();
    await procs.stopAll();
    dir.dispose();
  });

  test('install --no-start: a unit systemd accepts, the token only in a 0600 file, and its ExecStart shares the tunnel', async () => {
    const port = target.address().port;
    const r = await service(['install', 'web', '--target', `127.0.0.1:${port}`, '--relay', relay.url, '--token', token, '--no-start']);
    assert.equal(r.code, 0, r.stderr);
    const unitFile = join(config, 'systemd/user/tether-share-web.service');
    const envFile = join(config, 'tether/share-web.env');
    assert.match(r.stderr, new RegExp(`wrote ${unitFile} \\(shares 127\\.0\\.0\\.1:${port} as web\\)`));
    assert.match(r.stderr, /start it with: systemctl --user daemon-reload && systemctl --user enable --now tether-share-web\.service/);
    const unit = readFileSync(unitFile, 'utf8');
    assert.ok(!unit.includes(token), 'the unit holds no token');
    assert.equal(statSync(envFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(config, 'tether')).mode & 0o777, 0o700);

    // systemd's own check of the unit (user mode needs a runtime folder).
    const runtime = join(dir.path, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const verify = spawnSync('systemd-analyze', ['verify', '--user', unitFile], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: config } });
    assert.equal(verify.error, undefined, 'systemd-analyze runs (Debian package systemd)');
    assert.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`);
    assert.equal(verify.stderr.trim(), '', `no warning: ${verify.stderr}`);

    // What systemd would start: ExecStart's words, with the EnvironmentFile's variables.
    // node, its flags for a long-running CLI (core/cli-node-flags.ts), the CLI, then share.
    const exec = execWords(/^ExecStart=(.*)$/m.exec(unit)[1]);
    assert.deepEqual(exec.slice(1, 1 + CLI_NODE_FLAGS.length), [...CLI_NODE_FLAGS]);
    assert.deepEqual(exec.slice(2 + CLI_NODE_FLAGS.length), ['share', 'web', '--target', `127.0.0.1:${port}`]);
    assert.equal(/^EnvironmentFile=(.*)$/m.exec(unit)[1], envFile);
    const vars = envFileVars(readFileSync(envFile, 'utf8'));
    assert.deepEqual(vars, { TETHER_TOKEN: token, TETHER_RELAY: relay.url });
    const shared = procs.start(exec[0], exec.slice(1), { env: cleanEnv(vars) });
    await shared.waitFor('stderr', /^Sharing 127\.0\.0\.1:\d+ as tunnel web/);
    const { port: listen, proc: connect } = await startConnect(procs, { url: relay.url, token, tunnel: 'web' });
    const text = await new Promise((resolve, reject) => {
      const s = net.connect(listen, '127.0.0.1');
      let got = '';
      s.setEncoding('utf8').on('data', (d) => (got += d)).on('close', () => resolve(got)).on('error', reject);
    });
    assert.equal(text, 'hello from the target\n');
    await procs.stop(connect);
    await procs.stop(shared);

    const list = await service(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^web\\t127\\.0\\.0\\.1:${port}\\t\\S`));
  });

  test('install and start: with a user systemd it runs; without one, one coded sentence and the files are kept', async () => {
    const r = await service(['install', 'laptop', '--relay', relay.url, '--token', token]);
    // Whether this machine has a user manager to talk to at all.
    const probe = spawnSync('systemctl', ['--user', 'show-environment'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      // No user manager (a container, a root shell without a session): said, with what to run.
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^tether: the unit is written, but 'systemctl --user daemon-reload' failed: .+; where a user systemd runs, start it with 'systemctl --user enable --now tether-share-laptop\.service' \[TETHER_ERR_SERVICE_FAILED\]$/m);
      assert.ok(existsSync(join(config, 'systemd/user/tether-share-laptop.service')));
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /started tether-share-laptop\.service/);
    }
    const removed = await service(['uninstall', 'laptop']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.ok(!existsSync(join(config, 'systemd/user/tether-share-laptop.service')));
    assert.ok(!existsSync(join(config, 'tether/share-laptop.env')));
  });

  test('a refused token, a hostile name, an unknown service: a coded sentence, nothing written', async () => {
    const wrong = await service(['install', 'other', '--relay', relay.url, '--token', 'not-a-token', '--no-start']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^tether: the relay does not accept this token .*\[TETHER_ERR_UNAUTHORIZED\]$/m);
    assert.ok(!existsSync(join(config, 'systemd/user/tether-share-other.service')));

    const hostile = await service(['install', '../../evil', '--relay', relay.url, '--token', token, '--no-start']);
    assert.notEqual(hostile.code, 0);
    assert.match(hostile.stderr, /\[TETHER_ERR_INVALID_TUNNEL_NAME\]/);
    assert.ok(!existsSync(join(config, 'evil.service')));

    const unknown = await service(['uninstall', 'nothing']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.trim(), "tether: no service shares nothing ('tether service list' shows the installed ones) [TETHER_ERR_NOT_FOUND]");
  });
});
