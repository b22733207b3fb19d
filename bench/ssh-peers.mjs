// The long-running peers of the SSH benchmarks (bench/ssh.mjs, bench/normal-load.mjs): real
// OpenSSH servers (the repository's sshd fixture, compiled by `tsc -b`) and a fresh Tether relay
// with `tether share` and `tether connect --listen` in front of one of them, each its own process.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownSection, machine } from './report.mjs';
import extension from '@tether/extension';
import { startSshd } from '../extension/dist/test-support/sshd-fixture.js';
import { freePort, killAll, startNode, startRelayNode, startShareNode } from './procs.mjs';

const { RelayApi } = extension;

/** sshd processes still running: the fixture does not start them in a group of their own. */
const sshds = new Set();

/** A real OpenSSH sshd on 127.0.0.1 with its own keys in `dir` (root may log in with `clientKey`). */
export async function startBenchSshd(dir) {
  const sshd = await startSshd({ dir });
  sshds.add(sshd);
  return {
    port: sshd.port,
    pid: sshd.pid,
    clientKey: sshd.clientKey,
    /** CPU seconds of sshd and every session process it reaped so far (they end with their connection). */
    cpuSeconds: () => treeCpuSeconds(sshd.pid, true),
    /** Resolves once sshd has no session process left (so cpuSeconds() holds the last one's). */
    async settled(timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (readFileSync(`/proc/${sshd.pid}/task/${sshd.pid}/children`, 'utf8').trim() !== '' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      sshds.delete(sshd);
      await sshd.stop();
    },
  };
}

// sshd is not in a process group of its own: kill what is left if the process exits early
// (bench/run.mjs's deadline calls process.exit()).
process.on('exit', () => {
  for (const sshd of sshds) {
    try {
      process.kill(sshd.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Stops every child of the benchmark at once, synchronously (exit paths and failures). */
export function killPeers() {
  killAll();
  for (const sshd of sshds) {
    try {
      process.kill(sshd.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  sshds.clear();
}

/** utime + stime (+ cutime + cstime: children it waited for) of `pid`, in seconds. */
export function treeCpuSeconds(pid, withReaped) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + (withReaped ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / 100;
}

/**
 * CPU seconds of `pid` and all its living descendants right now ({ pid: seconds }), for
 * processes that have not exited yet (sshd's sessions during a load).
 */
export function descendantsCpu(root) {
  const parent = new Map();
  const cpu = new Map();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number)) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(name, Number(f[1]));
      cpu.set(name, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // exited meanwhile
    }
  }
  const out = new Map();
  for (const [pid, seconds] of cpu) {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) {
      if (p === root) {
        out.set(pid, seconds);
        break;
      }
    }
  }
  return out;
}


/**
 * With BENCH_PROFILE=DIR, the relay runs under `node --cpu-prof` and writes its profile to DIR
 * when it stops (as in `npm run bench`): where its time goes under the load it just carried.
 */
function relayProfileFlags() {
  const dir = process.env.BENCH_PROFILE;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`, `--cpu-prof-name=relay-${Date.now()}.cpuprofile`] : [];
}

/**
 * A fresh relay (`tether relay`, port 0), a user on it and `tether share TUNNEL --target
 * 127.0.0.1:targetPort`, each its own process; with `connect`, also `tether connect TUNNEL
 * --listen 127.0.0.1:P`. `relayArgs`: more relay flags. Returns { relay, host, connector?,
 * connectPort?, url, token, adminToken }.
 */
export async function startTether({ cli, dir, tunnel, targetPort, connect = true, relayArgs = [], user = 'bench-ssh' }) {
  const dataDir = join(dir, 'relay');
  const started = [];
  try {
    const relay = startRelayNode('relay', [cli, 'relay', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, '--log-level', 'warn', ...relayArgs], relayProfileFlags());
    started.push(relay);
    const [url] = await relay.waitFor('stdout', /^http:\/\/\S+$/);
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const { token } = await new RelayApi(url, adminToken).createUser(user);
    const host = startShareNode('host', [cli, 'share', tunnel, '--target', `127.0.0.1:${targetPort}`, '--relay', url, '--token', token]);
    started.push(host);
    await host.waitFor('stderr', /^Sharing /);
    const out = { relay, host, url, token, adminToken };
    if (connect) {
      // `--listen` wants a real port: take one that was free a moment ago.
      const listen = await freePort();
      out.connector = startNode('connector', [cli, 'connect', tunnel, '--listen', `127.0.0.1:${listen}`, '--relay', url, '--token', token]);
      started.push(out.connector);
      const [, port] = await out.connector.waitFor('stderr', /^Listening on 127\.0\.0\.1:(\d+)/);
      out.connectPort = Number(port);
    }
    return out;
  } catch (err) {
    for (const proc of started.reverse()) await proc.stop();
    throw err;
  }
}

/** The relay's own counts (hosts, connectors, streams), as its admin sees them on /readyz. */
export async function relayCounts(url, adminToken) {
  const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } });
  return res.json();
}

/**
 * Runs a benchmark module on its own (`node bench/X.mjs`) when `moduleUrl` is the script node was
 * started with: `measure({ cli, tmp })` in a scratch folder, its Markdown section on stdout, every
 * peer stopped on the way out (also on a failure or a signal). `name` labels the section and errors.
 */
export function runAlone(moduleUrl, name, label, measure) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      killPeers();
      process.exit(130);
    });
  }
  const root = resolve(dirname(fileURLToPath(moduleUrl)), '..');
  const tmp = mkdtempSync(join(os.tmpdir(), `tether-${name.replace(':', '-')}-`));
  const began = performance.now();
  const meta = machine();
  measure({ cli: join(root, 'extension/dist/cli/main.js'), tmp })
    .then(({ rows, notes }) => {
      meta.commit = `${label}, ${meta.commit}`;
      meta.loadEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
      meta.durationS = Math.round((performance.now() - began) / 1000);
      process.stdout.write(markdownSection(meta, rows, notes));
      return 0;
    }, (err) => {
      process.stderr.write(`${name}: ${err.stack ?? err}\n`);
      return 1;
    })
    .then((code) => {
      killPeers();
      rmSync(tmp, { recursive: true, force: true });
      process.exit(code);
    });
}

/** The number after `--NAME` on the command line, or `fallback`. */
export function numberOption(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
