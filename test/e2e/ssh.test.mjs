// Real OpenSSH through Tether: sshd ← `tether share` ← `tether relay` ← `tether proxy`/`connect` ← ssh.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createUser, HANG_GUARD, Processes, randomFile, requirePrograms, scp, sha256File, ssh, startConnect, startRelay, startShare, startSshd, tempDir,
} from './fixtures.mjs';

const MiB = 1024 * 1024;
const TUNNEL = 'e2e-box';

describe('ssh through a tunnel', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  /** ssh through `tether proxy`: `{ port, key, proxyTunnel, relay, token }`. */
  let viaProxy;
  let relay;
  let token;
  let sshd;

  before(async () => {
    requirePrograms();
    sshd = await startSshd(procs, tmp.path);
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'alice');
    await startShare(procs, { url: relay.url, token, tunnel: TUNNEL, targetPort: sshd.port });
    viaProxy = { port: sshd.port, key: sshd.key, proxyTunnel: TUNNEL, relay: relay.url, token };
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('runs a command and returns its output and exit status', async () => {
    const ok = await ssh(viaProxy, 'echo "hello from $(whoami)"');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'hello from root\n');

    const failed = await ssh(viaProxy, 'echo to-stderr >&2; exit 7');
    assert.equal(failed.code, 7, failed.stderr);
    assert.match(failed.stderr, /to-stderr/);
  });

  test('uploads 64 MiB intact', async () => {
    const file = join(tmp.path, 'upload.bin');
    const expected = await randomFile(file, 64 * MiB);
    const remote = join(tmp.path, 'uploaded.bin');
    const r = await ssh(viaProxy, `cat > ${remote} && sha256sum < ${remote}`, { input: file });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split(' ')[0], expected);
    assert.equal(await sha256File(remote), expected);
  });

  test('downloads 64 MiB intact', async () => {
    const file = join(tmp.path, 'download.bin');
    const expected = await randomFile(file, 64 * MiB);
    const r = await ssh(viaProxy, `cat ${file}`, { keepStdout: false });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.sha256, expected);
  });

  test('scp copies a file both ways (SFTP protocol)', async () => {
    const source = join(tmp.path, 'scp-source.bin');
    const expected = await randomFile(source, 8 * MiB);
    const up = join(tmp.path, 'scp-up.bin');
    const down = join(tmp.path, 'scp-down.bin');
    const pushed = await scp(viaProxy, source, `root@127.0.0.1:${up}`);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(await sha256File(up), expected);
    const pulled = await scp(viaProxy, `root@127.0.0.1:${up}`, down);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(await sha256File(down), expected);
  });

  describe('through a `tether connect` listener', () => {
    let viaListener;

    before(async () => {
      const listener = await startConnect(procs, { url: relay.url, token, tunnel: TUNNEL });
      viaListener = { port: listener.port, key: sshd.key };
    });

    test('plain ssh to the local port reaches sshd', async () => {
      const r = await ssh(viaListener, 'echo via-listener; exit 3');
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, 'via-listener\n');
    });

    test('several ssh sessions at once, each with its own data', async () => {
      const sessions = 4;
      const barrier = join(tmp.path, 'barrier');
      const inputs = await Promise.all(Array.from({ length: sessions }, async (_, i) => {
        const file = join(tmp.path, `concurrent-${i}.bin`);
        return { file, sha256: await randomFile(file, 4 * MiB) };
      }));
      // Each session checks in, then waits until all have: they can only all finish if the
      // listener carried them at the same time. The loop is bounded so a failure cannot hang.
      const command = (i) => [
        `mkdir -p ${barrier} && touch ${barrier}/${i}`,
        `n=0; while [ "$(ls ${barrier} | wc -l)" -lt ${sessions} ]; do n=$((n+1)); [ $n -gt 600 ] && exit 42; sleep 0.05; done`,
        `echo "session ${i} $(sha256sum)"`,
      ].join('; ');
      const results = await Promise.all(inputs.map((input, i) => ssh(viaListener, command(i), { input: input.file })));
      results.forEach((r, i) => {
        assert.equal(r.code, 0, `session ${i}: ${r.stderr}`);
        assert.equal(r.stdout, `session ${i} ${inputs[i].sha256}  -\n`);
      });
    });
  });
});
