// The four ways bench/ssh.mjs reaches one sshd with the real OpenSSH client, written as one
// ssh_config so every path gets the same options (default cipher, no known_hosts, key only,
// BatchMode), and one timed transfer through any of them.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SSH = '/usr/bin/ssh';
const CPU_AT_EXIT = join(dirname(fileURLToPath(import.meta.url)), 'cpu-at-exit.cjs');

/** Host aliases of the config, by path name. */
export const ALIASES = { direct: 'direct', bastion: 'direct', proxy: 'via-proxy', shim: 'via-shim', connect: 'via-connect' };

/**
 * Writes `dir/ssh_config`: `bastion` (the jump sshd), `direct` (the target sshd; `ssh -J bastion
 * direct` is the bastion path), `via-proxy` (ProxyCommand `tether proxy TUNNEL`, relay and token from the
 * environment), with `shim` also `via-shim` (ProxyCommand `SHIM proxy TUNNEL`: the VS Code
 * extension's CLI shim) and `via-connect` (the port of `tether connect --listen`). Returns its path.
 */
export function writeSshConfig(dir, { target, bastion, connectPort, cli, tunnel, shim }) {
  const q = (s) => `"${s}"`;
  const text = [
    'Host bastion',
    `  Port ${bastion.port}`,
    `  IdentityFile ${q(bastion.clientKey)}`,
    'Host direct',
    `  Port ${target.port}`,
    `  IdentityFile ${q(target.clientKey)}`,
    'Host via-proxy',
    `  IdentityFile ${q(target.clientKey)}`,
    `  ProxyCommand ${q(process.execPath)} ${q(cli)} proxy ${tunnel}`,
    ...(shim ? ['Host via-shim', `  IdentityFile ${q(target.clientKey)}`, `  ProxyCommand ${q(shim)} proxy ${tunnel}`] : []),
    'Host via-connect',
    `  Port ${connectPort}`,
    `  IdentityFile ${q(target.clientKey)}`,
    'Host *',
    '  HostName 127.0.0.1',
    '  User root',
    '  StrictHostKeyChecking no',
    '  UserKnownHostsFile /dev/null',
    '  BatchMode yes',
    '  IdentitiesOnly yes',
    '  LogLevel error',
    '',
  ].join('\n');
  const file = join(dir, 'ssh_config');
  writeFileSync(file, text);
  return file;
}

/** CPU seconds of the children this process has waited for (cutime + cstime of /proc/self/stat). */
export function reapedCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/**
 * Runs one ssh to completion. `kind`: 'download' (remote `head -c BYTES /dev/zero`, stdout to
 * /dev/null), 'upload' (`head -c BYTES /dev/zero | ssh … 'cat > /dev/null'`) or 'count' (a
 * download whose bytes are counted here, to check a path delivers all of them). Resolves
 * { seconds, bytes (count only), stderr }; rejects on a non-zero exit.
 */
export function sshTransfer({ config, path, kind, bytes, env, verbose = false }) {
  const alias = ALIASES[path];
  // The bastion path is the direct one through `ssh -J bastion` (ssh passes -F on to the jump ssh).
  const jump = path === 'bastion' ? ['-J', 'bastion'] : [];
  const base = [SSH, '-F', config, ...(verbose ? ['-v'] : []), ...jump, alias];
  let command;
  let args;
  if (kind === 'upload') {
    command = '/bin/sh';
    args = ['-c', `head -c ${bytes} /dev/zero | "$@"`, 'sh', ...base, 'cat > /dev/null'];
  } else {
    command = SSH;
    args = [...base.slice(1), `head -c ${bytes} /dev/zero`];
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', kind === 'count' ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    let received = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t) => {
      if (stderr.length < 100_000) stderr += t;
    });
    child.stdout?.on('data', (chunk) => {
      received += chunk.length;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`ssh ${path} ${kind} exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve({ seconds, bytes: received, stderr });
    });
  });
}

/** The cipher and MAC ssh negotiated, from `ssh -v` output ("kex: server->client cipher: …"). */
export function negotiated(stderr) {
  const m = /kex: server->client cipher: (\S+) MAC: (\S+)/.exec(stderr);
  return m ? { cipher: m[1], mac: m[2] === '<implicit>' ? 'none: AEAD' : m[2] } : undefined;
}

/**
 * The environment for an ssh whose ProxyCommand is `tether proxy`: the proxy reports its CPU
 * seconds to `file` when it exits (bench/cpu-at-exit.cjs). Read them with proxyCpuSeconds(file).
 */
export function proxyCpuEnv(env, file) {
  return { ...env, BENCH_CPU_FILE: file, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(CPU_AT_EXIT)}`.trim() };
}

/** The CPU seconds `tether proxy` wrote to `file` (waits up to 5 s for it to exit); NaN if none. */
export async function proxyCpuSeconds(file) {
  for (let waited = 0; waited < 5000; waited += 20) {
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      return lines.reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return NaN;
}
