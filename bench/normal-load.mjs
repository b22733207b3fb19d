// The relay under "normal load": `npm run bench:load` (= tsc -b && node bench/normal-load.mjs
// [--seconds S]). The design brief: the relay uses < 25% of one core while carrying, at once,
// 1,000 idle tunnels, 100 interactive SSH sessions and 10 MB/s of bulk transfer. One fresh relay;
// CPU of each process read from /proc/<pid>/stat over the measurement window, and the relay's
// read and write system calls from /proc/<pid>/io (a count the machine's load does not bend).
// BENCH_PROFILE=DIR: the relay runs under node --cpu-prof and leaves its profile in DIR.
// `measureNormalLoad()` is what bench/run.mjs may import; run alone, it prints a Markdown section.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';
import { bulkUpload, interactiveSessions } from './load-sessions.mjs';
import { freePort, startNode } from './procs.mjs';
import { descendantsCpu, numberOption, relayCounts, runAlone, startBenchSshd, startTether } from './ssh-peers.mjs';
import { summary } from './stats.mjs';

const { RelayApi } = extension;
const ssh2Version = createRequire(import.meta.url)('ssh2/package.json').version;
const HERE = dirname(fileURLToPath(import.meta.url));
const IDLE = 1000;
const SESSIONS = 100;
const BULK_RATE = 10e6;
/** Sessions straight to sshd in the same window: what the machine's own load does to an echo. */
const BASELINE = 10;
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const count = (n) => n.toLocaleString('en-US');

/** CPU seconds of named processes, read together: { name: seconds }. */
function cpuSnapshot(counters) {
  return Object.fromEntries(Object.entries(counters).map(([k, f]) => [k, f()]));
}

/** Read and write system calls per second between two `syscalls()` readings `seconds` apart. */
function callRates(before, after, seconds) {
  return { reads: Math.round((after.reads - before.reads) / seconds), writes: Math.round((after.writes - before.writes) / seconds) };
}

/** % of one core each counter used between two snapshots `seconds` apart. */
function cpuPercent(before, after, seconds) {
  return Object.fromEntries(Object.keys(before).map((k) => [k, ((after[k] - before[k]) / seconds) * 100]));
}

/**
 * Runs the normal-load benchmark. `cli`: the built CLI; `tmp`: a folder it may use; `seconds`:
 * the measurement window (default 60). Every process it starts is stopped before it returns or
 * throws. Resolves { rows, notes } in bench/run.mjs's format.
 */
export async function measureNormalLoad({ cli, tmp, seconds = 60 }) {
  const dir = mkdtempSync(join(tmp, 'load-'));
  const stops = [];
  try {
    mkdirSync(join(dir, 'sshd'));
    const sshd = await startBenchSshd(join(dir, 'sshd'));
    stops.push(() => sshd.stop());
    // 1,000 tunnels from one address and one user are past the relay's default per-user and
    // per-address limits (64 and 256 links, 100 tunnels, 120 registrations a minute, upgrade
    // rates): raised for this run, every other limit and rate limit at its default.
    const rateLimits = join(dir, 'rate-limits.json');
    writeFileSync(rateLimits, JSON.stringify({ upgrades: { perIdentity: false, perAddress: false }, registrations: { perIdentity: false } }));
    const relayArgs = ['--rate-limits', rateLimits];
    for (const limit of ['maxLinksPerUser=4096', 'maxLinksPerAddress=4096', 'maxTunnelsPerUser=4096', 'maxRegistrationsPerMinute=100000']) relayArgs.push('--limit', limit);
    const tether = await startTether({ cli, dir, tunnel: 'ssh', targetPort: sshd.port, relayArgs, user: 'bench-load' });
    stops.push(() => tether.relay.stop(), () => tether.host.stop(), () => tether.connector.stop());

    log(`  ${count(IDLE)} idle tunnels`);
    const { token: idleToken } = await new RelayApi(tether.url, tether.adminToken).createUser('bench-idle');
    const idle = startNode('idle-hosts', [join(HERE, 'load-hosts.mjs'), tether.url, idleToken, String(IDLE), String(await freePort())]);
    stops.push(() => idle.stop());
    await idle.waitFor('stdout', /^ready \d+$/, 120_000);

    const counters = {
      relay: () => tether.relay.cpuSeconds(),
      host: () => tether.host.cpuSeconds(),
      connector: () => tether.connector.cpuSeconds(),
      'idle hosts': () => idle.cpuSeconds(),
      driver: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      },
    };
    const idleSeconds = Math.min(10, Math.max(3, seconds / 6));
    await sleep(2000);
    const idleBefore = cpuSnapshot(counters);
    const idleCallsBefore = tether.relay.syscalls();
    await sleep(idleSeconds * 1000);
    const idleOnly = cpuPercent(idleBefore, cpuSnapshot(counters), idleSeconds);
    const idleCalls = callRates(idleCallsBefore, tether.relay.syscalls(), idleSeconds);
    log(`  relay with only the idle tunnels: ${fmt(idleOnly.relay, 1)}% of a core, ${count(idleCalls.writes)} writes/s`);

    log(`  ${SESSIONS} interactive SSH sessions and ${BULK_RATE / 1e6} MB/s of bulk, through tether connect --listen`);
    const interactive = await interactiveSessions({ port: tether.connectPort, keyFile: sshd.clientKey, count: SESSIONS });
    stops.push(() => interactive.stop());
    const baseline = await interactiveSessions({ port: sshd.port, keyFile: sshd.clientKey, count: BASELINE });
    stops.push(() => baseline.stop());
    const bulk = await bulkUpload({ port: tether.connectPort, keyFile: sshd.clientKey, rate: BULK_RATE });
    let bulkStopped = false;
    stops.push(() => (bulkStopped ? undefined : bulk.stop()));
    interactive.start();
    baseline.start();
    await sleep(3000);

    log(`  measuring for ${seconds} s`);
    const countsBefore = await relayCounts(tether.url, tether.adminToken);
    const sshdBefore = descendantsCpu(sshd.pid);
    const before = cpuSnapshot(counters);
    const callsBefore = tether.relay.syscalls();
    const bulkBefore = bulk.written();
    const blockedBefore = bulk.blockedMs();
    const t0 = performance.now();
    interactive.state.recording = true;
    baseline.state.recording = true;
    await sleep(seconds * 1000);
    interactive.state.recording = false;
    baseline.state.recording = false;
    const window = (performance.now() - t0) / 1000;
    const cpu = cpuPercent(before, cpuSnapshot(counters), window);
    const calls = callRates(callsBefore, tether.relay.syscalls(), window);
    const sshdAfter = descendantsCpu(sshd.pid);
    const bulkRate = (bulk.written() - bulkBefore) / window;
    const blockedShare = (bulk.blockedMs() - blockedBefore) / 10 / window;
    const countsAfter = await relayCounts(tether.url, tether.adminToken);
    let sshdSeconds = 0;
    for (const [pid, s] of sshdAfter) if (sshdBefore.has(pid)) sshdSeconds += s - sshdBefore.get(pid);
    cpu.sshd = (sshdSeconds / window) * 100;
    await sleep(1000); // the last keystrokes' echoes
    const lost = interactive.outstanding();
    const bulkWritten = bulk.written();
    bulkStopped = true;
    const delivered = await bulk.stop();
    const lostLinks = idle.lines.stdout.filter((l) => l.startsWith('disconnected')).length;

    const echo = summary(interactive.state.latencies);
    const direct = summary(baseline.state.latencies);
    const verdict = (ok) => (ok ? 'PASS' : 'MISS');
    const rows = [
      { metric: 'relay CPU under normal load (% of one core)', value: fmt(cpu.relay, 1), target: '< 25', verdict: verdict(cpu.relay < 25) },
      { metric: 'relay system calls under normal load (writes / reads per second)', value: `${count(calls.writes)} / ${count(calls.reads)}`, target: '', verdict: '' },
      { metric: 'host (tether share) CPU under normal load (% of one core)', value: fmt(cpu.host, 1), target: '', verdict: '' },
      { metric: 'connector (tether connect) CPU under normal load (% of one core)', value: fmt(cpu.connector, 1), target: '', verdict: '' },
      { metric: `relay CPU with only the ${count(IDLE)} idle tunnels (% of one core)`, value: fmt(idleOnly.relay, 1), target: '', verdict: '' },
      { metric: `relay system calls with only the ${count(IDLE)} idle tunnels (writes / reads per second)`, value: `${count(idleCalls.writes)} / ${count(idleCalls.reads)}`, target: '', verdict: '' },
      { metric: 'interactive echo p50 (ms)', value: fmt(echo.p50, 2), target: '', verdict: '' },
      { metric: 'interactive echo p99 (ms)', value: fmt(echo.p99, 2), target: '', verdict: '' },
      { metric: `interactive echo straight to sshd p50 / p99, ${BASELINE} sessions in the same window (ms)`, value: `${fmt(direct.p50, 2)} / ${fmt(direct.p99, 2)}`, target: '', verdict: '' },
      { metric: 'keystrokes not echoed', value: `${lost} of ${interactive.state.sent}`, target: '= 0', verdict: verdict(lost === 0) },
      { metric: 'bulk transfer achieved (MB/s)', value: fmt(bulkRate / 1e6, 2), target: `${BULK_RATE / 1e6} (offered)`, verdict: '' },
      { metric: 'idle tunnels registered at the end of the window', value: count(countsAfter.hosts - 1), target: `= ${count(IDLE)}`, verdict: verdict(countsAfter.hosts - 1 === IDLE && lostLinks === 0) },
    ];
    const notes = [
      `Normal load, all at once on one fresh \`tether relay\` (its own process): (a) ${count(IDLE)} idle tunnels: one load-generator process (bench/load-hosts.mjs) holding ${count(IDLE)} HostAgents of the extension's core API (what \`tether share\` runs), each registered over its own WebSocket with the default settings (each checks its session every 750 ms and pings the relay when it has heard nothing for that long, every 1.5 s when idle, as a real share does; the relay pings a link every 5 s, or every 20 s one that talks on its own), nothing ever connecting to them; (b) ${SESSIONS} interactive SSH sessions: ssh2 (npm) clients in the driver process, through \`tether connect ssh --listen\` → relay → \`tether share ssh\` → a real OpenSSH sshd on 127.0.0.1, each session an exec of \`cat\` (no pty) sent one byte every 100 ms ± 30 ms (uniform) and timing the byte's echo (≈${count(SESSIONS * 10)} keystrokes/s in all); (c) bulk: one more ssh2 session on the same tunnel running \`wc -c\`, fed zeros at ${BULK_RATE / 1e6} MB/s (token bucket, 16 KiB writes every 10 ms). ssh2 ${ssh2Version} and sshd agreed on ${bulk.cipher} (ssh2's default preference).`,
      `Window: ${fmt(window, 1)} s after a 3 s warm-up; CPU is user + system from /proc/<pid>/stat (10 ms ticks) over the window, 100% = one core. Other processes over the same window: idle-host load generator ${fmt(cpu['idle hosts'], 1)}%, driver (ssh2 clients, keystrokes, bulk) ${fmt(cpu.driver, 1)}%, sshd and its ${SESSIONS + 1 + BASELINE} sessions (incl. cat and wc) ${fmt(cpu.sshd, 1)}%. Before the sessions started, ${fmt(idleSeconds, 0)} s with only the idle tunnels: relay ${fmt(idleOnly.relay, 1)}%, load generator ${fmt(idleOnly['idle hosts'], 1)}%.`,
      `Relay counts (its /readyz as admin) at the start and end of the window: hosts ${countsBefore.hosts} → ${countsAfter.hosts} (${count(IDLE)} idle + the ssh share), connectors ${countsBefore.connectors} → ${countsAfter.connectors}, streams ${countsBefore.streams} → ${countsAfter.streams}; idle links lost during the run: ${lostLinks}. Echo latency over ${count(interactive.state.latencies.length)} keystrokes (round trip: driver → connector → relay → host → sshd → cat and back); as a yardstick for the machine's own load, ${BASELINE} more sessions of the same kind went straight to sshd in the same window (not through Tether, not part of the load on the relay; ${baseline.state.latencies.length} keystrokes). Bulk: ${fmt(bulkRate / 1e6, 2)} MB/s written during the window, the writes waiting for ssh2 to drain (the path pushing back) ${fmt(blockedShare, 0)}% of the window (below 10 MB/s with little waiting means the driver's timer fell behind, not the path); \`wc -c\` counted ${delivered} bytes in all of ${bulkWritten} written.`,
      `Limits: for ${count(IDLE)} tunnels from one address and user the relay ran with --limit maxLinksPerUser=4096, maxLinksPerAddress=4096, maxTunnelsPerUser=4096, maxRegistrationsPerMinute=100000 and the upgrade and registration rate limits off; every other limit and rate limit at its default.`,
    ];
    return { rows, notes };
  } finally {
    // Stopped in the reverse order of their start.
    for (const stop of stops.reverse()) await Promise.resolve().then(stop).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- run alone -------------------------------------------------------------------------------

runAlone(import.meta.url, 'bench:load', 'normal load (bench/normal-load.mjs)', ({ cli, tmp }) =>
  measureNormalLoad({ cli, tmp, seconds: numberOption('seconds', 60) }));
