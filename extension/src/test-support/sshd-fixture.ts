/**
 * A real OpenSSH server on 127.0.0.1 for tests: own config, keys and pid file in a folder of its
 * own. The one sshd fixture of the repository: the unit tests import it from here, the
 * end-to-end suites (test/e2e/fixtures.mjs) from its compiled form in extension/dist/test-support.
 * (Not named `test-*.ts`: node --test would run it.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './testing.js';

export const SSHD = '/usr/sbin/sshd';

/** How long sshd may take to say it listens: a guard against hanging, not a threshold. */
const READY_TIMEOUT_MS = 20_000;
/** A port picked before sshd binds it can be taken in between: try this many. */
const ATTEMPTS = 5;

export interface Sshd {
  port: number;
  dir: string;
  pid: number;
  /** The server's public host key file (`type base64 comment`). */
  hostKeyPub: string;
  /** A private key whose public half is authorized (AuthorizedKeysFile is one file for all users). */
  clientKey: string;
  /** A private key that is not authorized. */
  strangerKey: string;
  /** What sshd wrote on stderr so far (`-e`: its log). */
  log(): string;
  /** Stops sshd; removes `dir` when the fixture made it. */
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Folder for keys, config and pid file (kept on stop). Default: a new temporary folder, removed on stop. */
  dir?: string;
}

/** Writes an unencrypted ed25519 key pair at `file` (+ `.pub`). */
export function keygen(file: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tether-test', '-f', file], { stdio: 'ignore' });
  return file;
}

function sshdConfig(dir: string, port: number, hostKey: string): string {
  return [
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
    'PermitRootLogin prohibit-password',
    // Built into sshd, so scp (SFTP protocol by default since OpenSSH 9.0) needs no extra package.
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

interface Running {
  child: ReturnType<typeof spawn>;
  exited: Promise<unknown>;
  log: () => string;
}

/** Starts sshd on `config` and resolves once it listens; rejects if it exits first. */
async function launch(config: string): Promise<Running> {
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = once(child, 'exit');
  const log = (): string => stderr;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Server listening on')) resolve();
      });
      exited.then(() => reject(new Error(`sshd exited: ${stderr}`)), reject);
      timer = setTimeout(() => reject(new Error(`sshd did not listen within ${READY_TIMEOUT_MS} ms: ${stderr}`)), READY_TIMEOUT_MS);
    });
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { child, exited, log };
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tether-sshd-'));
  const hostKey = keygen(join(dir, 'hostkey'));
  const clientKey = keygen(join(dir, 'client'));
  const strangerKey = keygen(join(dir, 'stranger'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const config = join(dir, 'sshd_config');
  let running: Running | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS && !running; attempt++) {
    port = await closedPort();
    writeFileSync(config, sshdConfig(dir, port, hostKey));
    // A config sshd rejects is a bug in this fixture: say so plainly instead of retrying.
    execFileSync(SSHD, ['-t', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      running = await launch(config);
    } catch (err) {
      lastError = err;
    }
  }
  if (!running) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { child, exited, log } = running;
  return {
    port,
    dir,
    pid: child.pid ?? 0,
    hostKeyPub: `${hostKey}.pub`,
    clientKey,
    strangerKey,
    log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
