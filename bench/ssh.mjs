// The SSH benchmark: `npm run bench:ssh` (= tsc -b && node bench/ssh.mjs [--mib N] [--rounds R]).
// The real OpenSSH client moving N MiB to and from one real sshd on 127.0.0.1 by five paths,
// alternated over several rounds in one run: direct, through an OpenSSH bastion (`ssh -J`, a
// second sshd), through Tether with `tether proxy` as ProxyCommand, and through Tether with
// `tether connect --listen`, and the way the VS Code extension runs ssh: `tether proxy` of the CLI
// bundled in its .vsix, through the shim it writes (~/.ssh/tether/bin/tether). Design target:
// Tether's throughput >= 1.2× the bastion's.
// `measureSsh()` is what bench/run.mjs may import; run alone, it prints a Markdown section.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { options as bundleOptions } from '../extension/esbuild.mjs';
import { writeCliShim } from '../extension/dist/core/cli-shim.js';
import { negotiated, proxyCpuEnv, proxyCpuSeconds, reapedCpuSeconds, sshTransfer, writeSshConfig } from './ssh-paths.mjs';
import { numberOption, runAlone, startBenchSshd, startTether } from './ssh-peers.mjs';
import { median } from './stats.mjs';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PATHS = ['direct', 'bastion', 'proxy', 'shim', 'connect'];
const LABELS = { direct: 'direct', bastion: 'OpenSSH bastion', proxy: 'Tether (proxy)', shim: 'Tether (proxy, VS Code shim)', connect: 'Tether (connect --listen)' };
/** Paths whose ProxyCommand is `tether proxy` (its CPU comes from bench/cpu-at-exit.cjs). */
const PROXIED = new Set(['proxy', 'shim']);
const TUNNEL = 'bench-ssh';
const fmt = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const log = (line) => process.stderr.write(`${line}\n`);

/**
 * Runs the SSH benchmark. `cli`: the built CLI (extension/dist/cli/main.js); `tmp`: a folder it
 * may use (a sub-folder is made and removed); `rounds` (default 3); `mib` per transfer (default
 * 256). Every process it starts is stopped before it returns or throws. Resolves { rows, notes }
 * in bench/run.mjs's format.
 */
export async function measureSsh({ cli, tmp, rounds = 3, mib = 256, warmupMib = 256 }) {
  const dir = mkdtempSync(join(tmp, 'ssh-'));
  const peers = [];
  try {
    for (const name of ['target', 'bastion']) mkdirSync(join(dir, name));
    const target = await startBenchSshd(join(dir, 'target'));
    peers.push(target);
    const bastion = await startBenchSshd(join(dir, 'bastion'));
    peers.push(bastion);
    const tether = await startTether({ cli, dir, tunnel: TUNNEL, targetPort: target.port });
    peers.push({ stop: () => tether.connector.stop() }, { stop: () => tether.host.stop() }, { stop: () => tether.relay.stop() });
    // The CLI as the .vsix carries it (extension/esbuild.mjs), run through the shim the extension
    // writes: what Remote-SSH and "Copy SSH Command" start for each connection. The shim runs
    // the `node` on PATH, as it does for a user; the other paths run this process's node.
    await build({ ...bundleOptions(join(dir, 'vsix')), logLevel: 'error' });
    const shim = writeCliShim(join(dir, 'home'), join(dir, 'vsix', 'cli.js'));
    const config = writeSshConfig(dir, { target, bastion, connectPort: tether.connectPort, cli, tunnel: TUNNEL, shim });
    const env = { ...cleanEnv(), TETHER_RELAY: tether.url, TETHER_TOKEN: tether.token };
    const bytes = mib * MiB;

    // Each path once with 1 MiB counted here: it delivers every byte, and the connector's relay
    // session is warm before timing starts. The direct one also tells the cipher in use.
    let cipher;
    const warm = { seconds: {}, proxyCpu: {} };
    for (const path of PATHS) {
      const cpuFile = join(dir, 'proxy-cpu-check');
      const r = await sshTransfer({ config, path, kind: 'count', bytes: MiB, env: PROXIED.has(path) ? proxyCpuEnv(env, `${cpuFile}-${path}`) : env, verbose: path === 'direct' });
      if (r.bytes !== MiB) throw new Error(`ssh ${path}: ${r.bytes} of ${MiB} bytes arrived`);
      if (path === 'direct') cipher = negotiated(r.stderr);
      if (PROXIED.has(path)) warm.proxyCpu[path] = await proxyCpuSeconds(`${cpuFile}-${path}`);
      warm.seconds[path] = r.seconds;
    }

    // The relay and `tether share` are long-running processes that a user's transfer finds
    // warm; fresh ones spend about twice the CPU per byte on their first few hundred MiB (new
    // heap pages, young-generation growth, code V8 has not optimized yet: the throughput
    // section's cold-start rows). So before the rounds, one download and one upload through
    // `connect --listen` warm them (and the connector), not timed, as the other
    // sections warm their paths (BENCH_WARMUP_MIB). Their rates are reported as a note.
    const warmup = {};
    if (warmupMib > 0) {
      for (const kind of ['download', 'upload']) {
        const { seconds } = await sshTransfer({ config, path: 'connect', kind, bytes: warmupMib * MiB, env });
        warmup[kind] = (warmupMib * MiB) / seconds / 1e6;
      }
    }

    // CPU counters: the long-running processes by PID; ssh (and whatever it waited for) from
    // this process's reaped-children time; sshd with the session processes it reaped.
    // The ssh client is counted only where it has no ProxyCommand: ssh may or may not wait for
    // one, so what it reaped would hold the jump ssh or `tether proxy` only some of the time.
    // `tether proxy` reports its own CPU at exit (bench/cpu-at-exit.mjs).
    const counters = {
      'ssh client': reapedCpuSeconds,
      'target sshd': target.cpuSeconds,
      'bastion sshd': bastion.cpuSeconds,
      relay: () => tether.relay.cpuSeconds(),
      host: () => tether.host.cpuSeconds(),
      connector: () => tether.connector.cpuSeconds(),
    };
    const results = {};
    for (const kind of ['download', 'upload']) {
      results[kind] = Object.fromEntries(PATHS.map((p) => [p, { rates: [], cpu: {}, seconds: 0 }]));
    }
    for (let round = 0; round < rounds; round++) {
      // Rotated each round, so a burst of load elsewhere falls on every path alike.
      const order = PATHS.map((_, i) => PATHS[(i + round) % PATHS.length]);
      for (const kind of ['download', 'upload']) {
        for (const path of order) {
          const before = Object.fromEntries(Object.entries(counters).map(([k, f]) => [k, f()]));
          const cpuFile = join(dir, `proxy-cpu-${kind}-${round}-${path}`);
          const { seconds } = await sshTransfer({ config, path, kind, bytes, env: PROXIED.has(path) ? proxyCpuEnv(env, cpuFile) : env });
          const proxyCpu = PROXIED.has(path) ? await proxyCpuSeconds(cpuFile) : 0;
          // sshd reaps a session's processes a moment after the client is gone.
          await target.settled();
          await bastion.settled();
          const r = results[kind][path];
          for (const [k, f] of Object.entries(counters)) {
            if (k === 'ssh client' && (PROXIED.has(path) || path === 'bastion')) continue;
            r.cpu[k] = (r.cpu[k] ?? 0) + f() - before[k];
          }
          if (PROXIED.has(path)) r.cpu['tether proxy'] = (r.cpu['tether proxy'] ?? 0) + proxyCpu;
          r.seconds += seconds;
          r.rates.push(bytes / seconds / 1e6);
          log(`  round ${round + 1} ${kind} ${path}: ${fmt(bytes / seconds / 1e6, 1)} MB/s`);
        }
      }
    }
    return report(results, { rounds, mib, bytes, cipher, warm, warmupMib, warmup });
  } finally {
    for (const peer of peers.reverse()) await peer.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The caller's environment without Tether settings or an agent (ssh must use the key given). */
function cleanEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TETHER_') || key === 'SSH_AUTH_SOCK') delete env[key];
  return env;
}

function report(results, { rounds, mib, bytes, cipher, warm, warmupMib, warmup }) {
  const rows = [];
  const notes = [];
  for (const kind of ['download', 'upload']) {
    const m = Object.fromEntries(PATHS.map((p) => [p, median(results[kind][p].rates)]));
    for (const p of PATHS) rows.push({ metric: `ssh ${kind}: ${LABELS[p]} (MB/s)`, value: fmt(m[p], 1), target: '', verdict: '' });
    for (const p of ['proxy', 'shim', 'connect']) {
      const ratio = m[p] / m.bastion;
      rows.push({ metric: `ssh ${kind}: ${LABELS[p]} / OpenSSH bastion`, value: fmt(ratio, 2), target: '>= 1.20', verdict: Number.isFinite(ratio) ? (ratio >= 1.2 ? 'PASS' : 'MISS') : 'n/a' });
    }
    notes.push(`ssh ${kind}, MB/s of each round (median reported): ${PATHS.map((p) => `${LABELS[p]} ${results[kind][p].rates.map((x) => fmt(x, 0)).join('/')}`).join('; ')}.`);
    const perGiB = (p) => {
      const r = results[kind][p];
      const gib = (rounds * bytes) / GiB;
      return Object.entries(r.cpu)
        .filter(([, s]) => s >= 0.005 * rounds)
        .map(([k, s]) => `${k} ${fmt(s / gib, 2)}`)
        .join(', ');
    };
    notes.push(`CPU seconds per GiB, ssh ${kind} (user + system from /proc; processes under 0.005 s per transfer left out): ${PATHS.map((p) => `${LABELS[p]}: ${perGiB(p)}`).join('; ')}.`);
  }
  notes.push(`Fixed cost of a connection: the 1 MiB check took ${PATHS.map((p) => `${LABELS[p]} ${fmt(warm.seconds[p], 2)} s`).join(', ')} (wall clock of ssh: connection, authentication and the bytes); the \`tether proxy\` of that check used ${['proxy', 'shim'].map((p) => `${fmt(warm.proxyCpu[p], 2)} CPU seconds (${LABELS[p]})`).join(' and ')}, mostly Node start-up, which every proxy transfer pays once (with ${mib} MiB per transfer, ${fmt(warm.proxyCpu.proxy / (mib / 1024), 2)} s per GiB of the npm proxy's figure below).`);
  notes.push(`Setup: one target sshd (OpenSSH, \`/usr/sbin/sshd -D\`, the repository's fixture extension/src/test-support/sshd-fixture.ts) on 127.0.0.1 for every path; the bastion is a second sshd instance of the same fixture (its own port and keys), used as \`ssh -J bastion\` (ProxyJump: a second ssh process runs \`ssh -W\` to it, and it opens the TCP connection to the target sshd). Tether: one fresh \`tether relay\`, \`tether share ${TUNNEL} --target 127.0.0.1:<sshd>\` (with the Node flags \`tether service install\`'s unit gives it) and \`tether connect ${TUNNEL} --listen 127.0.0.1:<port>\`, each its own process, started once; the proxy path starts \`tether proxy ${TUNNEL}\` (extension/dist/cli/main.js, what the npm package runs) as ssh's ProxyCommand for each transfer (its Node start-up and relay connection are in the time, as for a user); the VS Code shim path does the same through the shim the extension writes (extension/src/core/cli-shim.ts: its GLIBC_TUNABLES and node options) running the CLI bundled as the .vsix carries it (extension/esbuild.mjs, no koffi: ssh's pipes stay 64 KiB).`);
  notes.push(`Each transfer: ${mib} MiB with the real OpenSSH client (${'`'}ssh -F <config>${'`'}: StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null, BatchMode, IdentitiesOnly), timed as the wall clock of the ssh process, connection and authentication included. Download: \`ssh … 'head -c N /dev/zero' > /dev/null\`; upload: \`head -c N /dev/zero | ssh … 'cat > /dev/null'\`. Cipher: OpenSSH's default for every path (no -c), negotiated as ${cipher ? `${cipher.cipher} (MAC ${cipher.mac})` : 'unknown'}; on the bastion path both the outer and inner connections use it. ${rounds} round${rounds === 1 ? "" : "s"}; each round runs the five downloads then the five uploads, the order of the paths rotated every round. Each path first delivered 1 MiB counted byte by byte (a check, not timed). ${warmupMib > 0 ? `Then ${warmupMib} MiB down and ${warmupMib} MiB up through \`connect --listen\` warmed the relay, the share and the connector, which a user's transfer finds long-running (not timed into the rows; on these fresh processes they moved ${fmt(warmup.download, 0)} MB/s down and ${fmt(warmup.upload, 0)} MB/s up; BENCH_SSH_WARMUP_MIB, 0 to skip). ` : 'No warm-up transfer (BENCH_SSH_WARMUP_MIB=0): the first Tether path of round 1 met a fresh relay and share. '}MB is 10^6 bytes.`);
  notes.push("Target: the design brief asks Tether >= 1.2× an OpenSSH bastion; the same >= 1.20 is applied to uploads (scp pushes matter as much as pulls). CPU: \"ssh client\" is the ssh process as this process reaped it (for uploads with the sh and head feeding it), given only for the direct and connect --listen paths: ssh waits for its ProxyCommand only some of the time, so on the bastion and proxy paths what it reaped holds the jump ssh or `tether proxy` only sometimes, and it is left out; \"tether proxy\" is the ProxyCommand's own user + system time, written by the process itself at exit (bench/cpu-at-exit.cjs preloaded with NODE_OPTIONS=--require); \"sshd\" counts the listening sshd with the session processes it reaped (sshd-session and the remote head/cat); relay, host and connector (`tether connect --listen`, idle on the other paths) are read from /proc/<pid>/stat around each transfer, in 10 ms ticks.");
  return { rows, notes };
}

// --- run alone -------------------------------------------------------------------------------

runAlone(import.meta.url, 'bench:ssh', 'SSH (bench/ssh.mjs)', ({ cli, tmp }) =>
  measureSsh({ cli, tmp, rounds: numberOption('rounds', 3), mib: numberOption('mib', 256), warmupMib: numberOption('warmup-mib', 256) }));
