// The cluster benchmark's results: a console table and a dated section of docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { consoleTable, insertSection } from './report.mjs';

const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const pct = (s, d = 2) => `${f(s.p50, d)} / ${f(s.p95, d)} / ${f(s.max, d)}`;

function commit(root) {
  try {
    let c = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim()) c += ' (with uncommitted changes)';
    return `commit ${c}`;
  } catch {
    return 'unknown commit';
  }
}

export function writeClusterReport(r, { write, root, log }) {
  const perLink = (r.rssIdle.median - r.rssEmpty.median) / (r.T / r.N);
  const perStream = (r.rssStreams.median - r.rssIdle.median) / (r.T / r.N);
  const rows = [
    ['stream open, same node: p50 / p95 / max (ms)', pct(r.openSame, 3)],
    ['stream open, cross node (warm peer link): p50 / p95 / max (ms)', pct(r.openCross, 3)],
    ['cross-node open − same-node open, p50 (ms)', f(r.openCross.p50 - r.openSame.p50, 3)],
    [`first open per node pair, peer link dialled (${r.openCold.n}): p50 / p95 / max (ms)`, pct(r.openCold)],
    [`opens of all ${r.T} tunnels, 128 in flight, same node (${r.loadSame.n}): p50 / p95 (ms)`, `${f(r.loadSame.p50, 2)} / ${f(r.loadSame.p95, 2)}`],
    [`opens of all ${r.T} tunnels, 128 in flight, cross node (${r.loadCross.n}): p50 / p95 (ms)`, `${f(r.loadCross.p50, 2)} / ${f(r.loadCross.p95, 2)}`],
    ['relay RSS, no links: min / median / max (MB)', `${f(r.rssEmpty.min)} / ${f(r.rssEmpty.median)} / ${f(r.rssEmpty.max)}`],
    [`relay RSS, ${r.T / r.N} host links each (idle): min / median / max (MB)`, `${f(r.rssIdle.min)} / ${f(r.rssIdle.median)} / ${f(r.rssIdle.max)}`],
    // With few links per node, V8 giving back start-up garbage outweighs them: no figure then.
    ['relay RSS per host link (KB)', perLink > 0 ? f(perLink * 1024, 0) : 'n/a: RSS fell (GC noise larger than the links)'],
    [`relay RSS with one open stream per tunnel (${r.T} cluster-wide): min / median / max (MB)`, `${f(r.rssStreams.min)} / ${f(r.rssStreams.median)} / ${f(r.rssStreams.max)}`],
    ['relay RSS per open stream (KB, both hops of cross-node ones included)', f(perStream * 1024, 1)],
    ['relay RSS after the opens (streams closed): min / median / max (MB)', `${f(r.rssAfter.min)} / ${f(r.rssAfter.median)} / ${f(r.rssAfter.max)}`],
    ['all relays together, idle with hosts (MB)', f(r.rssIdle.sum, 0)],
    [`Redis commands/s at steady state (${r.steadyS} s), those run inside Lua scripts included`, f(r.redisOps, 0)],
    ['Redis commands/s per tunnel (inside scripts included)', f(r.redisOpsPerTunnel, 3)],
    ['Redis round trips (EVALSHA + plain commands)/s per tunnel', f(r.redisTripsPerTunnel, 3)],
    ['Redis CPU at steady state (% of one core)', f(r.redisCpu)],
    ['relay CPU at steady state, mean per node (% of one core)', f(r.relayCpuIdle, 2)],
    [`Redis memory used with ${r.T} tunnels (MB; RSS)`, `${f(r.redisUsedMB)} (${f(r.redisRssMB)})`],
    [`node kill -9 → tunnel open through a third node, ${r.failover.n} tunnels: p50 / p95 / max (ms)`, pct(r.failover, 0)],
    [`one stream, ${r.MIB} MiB one-way, same node (MB/s, each run)`, r.tput.same.map((x) => f(x, 0)).join(' / ')],
    [`one stream, ${r.MIB} MiB one-way, cross node (MB/s, each run)`, r.tput.cross.map((x) => f(x, 0)).join(' / ')],
  ];
  const notes = [
    `${r.N} relay processes (\`tether relay --redis\`, each \`--node-id bench-NN\`, one cluster secret, one admin token) and one redis-server 7 (no persistence) on loopback; relays started ${4} at a time, all up in ${f(r.startS)} s.`,
    `${r.T} tunnels, tunnel i on node i mod ${r.N}; the host links are raw \`MuxSession\`s in the bench process (bench/cluster-clients.mjs), as the admin, from source addresses 127.0.0.2-201 (at most 256 links per source address per node). Registering them, 64 at a time: ${f(r.registerS)} s (${f(r.T / r.registerS, 0)} links/s). The bench process peaked at ${f(r.driverRssPeak, 0)} MB RSS.`,
    `Steady state: the ${r.T} hosts linked and idle for ${r.steadyS} s (relays ping every 5 s, renew leases every 5 s, heartbeat every 2 s); \`total_commands_processed\` delta. Per command (/s): ${r.redisCmds.map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}.`,
    `Opens: one connector session per node (admin token). ${r.openCold.n} first opens, one per ordered node pair (each dials the pair's peer link); then ${r.openSame.n} same-node and ${r.openCross.n} cross-node opens alternated, one at a time, through a random node to a random tunnel held by that node (same) or another one (cross), after 100 warm-up ones; timed from \`openStream\` to OPEN_OK; each stream then echoes 64 random bytes (checked) and is reset. Then one stream to every tunnel through a random node, 128 in flight, echo-checked and held open (${f(r.bulkS)} s) for the RSS row, then reset.`,
    `Failover: ${r.F} tunnels of node bench-00 are also linked to a second node (spread over the others; bench-00's lease is the older). Each is opened once through a third node, then bench-00 is killed (SIGKILL); per tunnel, an open through the third node (plus a 16-byte echo) is retried every 50 ms until it works; time from the kill. ${r.failoverFirstTry} of ${r.failover.n} worked at the first attempt${r.failoverRefusal ? ` (the refusal of a first attempt came ${f(r.failoverRefusal.p50, 0)} ms after the kill at p50, ${f(r.failoverRefusal.max, 0)} ms at most)` : ''}; attempts per tunnel p50 ${r.failoverAttempts.p50}, max ${r.failoverAttempts.max}; the failed attempts: ${r.failoverErrors.map(([why, n]) => `${n}× "${why}"`).join('; ') || 'none'}.`,
    `Throughput: one stream, ${r.MIB} MiB one way from a connector session to a host in the bench process, which hashes what it gets and answers the SHA-256 after FIN (compared); timed until the hash came back. Same node: connector on the holding node; cross node: connector on another node (connector → node B → peer link → node A → host). The sender and the receiver share the bench process, so it is one of the CPU bottlenecks on 2 cores.`,
    `RSS is VmRSS of each relay process. "Per host link" = (median idle with hosts − median with no links) / (T/N); "per open stream" = (median with streams − median idle) / (T/N).`,
  ];
  if (r.loadStart > os.cpus().length / 2) notes.unshift(`**The machine was busy** (1-minute load average ${f(r.loadStart, 1)} on ${os.cpus().length} cores before the run): latencies and throughput are understated.`);
  const table = rows.map(([metric, value]) => ({ metric, value, target: '', verdict: '' }));
  process.stdout.write(`\n${consoleTable(table)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  const date = new Date().toISOString().slice(0, 10);
  const section = [
    `## ${date}: cluster, ${r.N} nodes, ${r.T} tunnels (\`bench/cluster.mjs\`), ${commit(root)}`,
    '',
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; Node ${process.version}; load average at start ${f(r.loadStart, 2)}, at end ${f(r.loadEnd, 2)}; run took ${f(r.durationS, 0)} s.`,
    '',
    '| metric | value |',
    '|---|---:|',
    ...rows.map(([m, v]) => `| ${m} | ${v} |`),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  if (write) {
    insertSection(join(root, 'docs/benchmarks.md'), section);
    log('results written to docs/benchmarks.md');
  }
}
