/**
 * A real OpenSSH server on 127.0.0.1 for tests: own config, keys and pid file in a temp folder.
 * Not exported from the package index. (Not named `test-*.ts`: node --test would run it.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '../testing.js';

export interface Sshd {
  port: number;
  dir: string;
  /** The server's public host key file (`type base64 comment`). */
  hostKeyPub: string;
  /** A private key whose public half is authorized (AuthorizedKeysFile is one file for all users). */
  clientKey: string;
  /** A private key that is not authorized. */
  strangerKey: string;
  stop(): Promise<void>;
}

/** Writes an unencrypted ed25519 key pair at `file` (+ `.pub`). */
export function keygen(file: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tether-test', '-f', file], { stdio: 'ignore' });
  return file;
}

export async function startSshd(): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
  const dir = mkdtempSync(join(tmpdir(), 'tether-sshd-'));
  const hostKey = keygen(join(dir, 'hostkey'));
  const clientKey = keygen(join(dir, 'client'));
  const strangerKey = keygen(join(dir, 'stranger'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const port = await closedPort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'UsePAM no',
      // Tests open many short connections; the default 10:30:100 drops some at random.
      'MaxStartups 200',
      // Sessions get a HOME of their own: the machine's ~/.bashrc (pyenv init, which rehashes
      // under a lock for up to 60 s when shells start together) must not run in every test login.
      `SetEnv HOME=${dir}`,
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Server listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`sshd exited: ${stderr}`)));
  });
  return {
    port,
    dir,
    hostKeyPub: `${hostKey}.pub`,
    clientKey,
    strangerKey,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
