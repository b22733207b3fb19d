import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PROXY_PIPE_BYTES, widenPipes, type SetPipeSize } from './pipe-capacity.js';

const linuxOnly = { skip: process.platform !== 'linux' && 'pipe capacities are a Linux feature' };
const dir = mkdtempSync(join(tmpdir(), 'tether-pipes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fifos = 0;
/** A real pipe (a FIFO held open for reading and writing, so no open blocks) that nobody reads. */
function openPipe(): { fd: number; path: string } {
  const path = join(dir, `fifo-${fifos++}`);
  execFileSync('mkfifo', [path]);
  return { fd: openSync(path, constants.O_RDWR), path };
}

/** How much the pipe at `path` takes before a non-blocking write says EAGAIN: its real capacity. */
function fill(path: string): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(4096);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  } finally {
    closeSync(fd);
  }
  return bytes;
}

describe('widenPipes', linuxOnly, () => {
  test('a pipe holds 64 KiB as Linux makes it, and 1 MiB once widened (libc fcntl through koffi)', async () => {
    const plain = openPipe();
    const widened = openPipe();
    try {
      assert.equal(fill(plain.path), 64 * 1024);
      assert.deepEqual(await widenPipes([widened.fd]), [{ fd: widened.fd, bytes: PROXY_PIPE_BYTES }]);
      assert.equal(fill(widened.path), PROXY_PIPE_BYTES);
    } finally {
      closeSync(plain.fd);
      closeSync(widened.fd);
    }
  });

  test('descriptors that are not pipes are left alone: fcntl is not called for them', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    const fd = openSync(file, 'r');
    const setPipeSize: SetPipeSize = () => assert.fail('fcntl called for a file');
    try {
      assert.deepEqual(await widenPipes([12345, fd], PROXY_PIPE_BYTES, { setPipeSize }), [
        { fd, skipped: 'not a pipe' },
        { fd: 12345, skipped: 'not a pipe' },
      ]);
    } finally {
      closeSync(fd);
    }
  });

  test('a refusal (EPERM past pipe-user-pages-soft) keeps the pipe as it was and says why', async () => {
    const pipe = openPipe();
    const asked: number[] = [];
    const setPipeSize: SetPipeSize = (_fd, bytes) => {
      asked.push(bytes);
      return { result: -1, errno: 1 };
    };
    try {
      // Asked for 64 MiB: what is asked of the system stays within its ceiling (1 MiB by default).
      const [result] = await widenPipes([pipe.fd], 64 * 1024 * 1024, { setPipeSize });
      assert.equal(asked.length, 1);
      assert.ok(asked[0] >= 4096 && asked[0] < 64 * 1024 * 1024, String(asked[0]));
      assert.deepEqual(result, { fd: pipe.fd, skipped: `fcntl(F_SETPIPE_SZ, ${asked[0]}) failed, errno 1` });
      assert.equal(fill(pipe.path), 64 * 1024);
    } finally {
      closeSync(pipe.fd);
    }
  });
});

describe('widenPipes, whatever the platform', () => {
  test('anywhere but Linux it says so and calls nothing', async () => {
    const setPipeSize: SetPipeSize = () => assert.fail('fcntl called off Linux');
    assert.deepEqual(await widenPipes([1, 0], PROXY_PIPE_BYTES, { platform: 'darwin', setPipeSize }), [
      { fd: 0, skipped: 'not Linux (darwin)' },
      { fd: 1, skipped: 'not Linux (darwin)' },
    ]);
  });
});
