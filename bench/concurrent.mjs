// Section "concurrent" of bench/run.mjs: many streams at once through the connector's one
// listener (so they share its relay connections), each moving the same bytes at the same time,
// against one stream moving all those bytes in the same run; and how evenly the streams share.
import { echoClientEndToEnd, parallelTransfers } from './clients.mjs';
import { MiB, atLeast, fmt, row } from './rows.mjs';
import { median, percentile } from './stats.mjs';
import { DIRECTIONS } from './throughput.mjs';

/** The section's settings from the environment (see docs/benchmarks.md, "Running it"). */
export function concurrentConfig(env) {
  return {
    streams: Number(env.BENCH_CONCURRENT_STREAMS ?? 100),
    bytesPerStream: Number(env.BENCH_CONCURRENT_MIB ?? 8) * MiB,
    chain: env.BENCH_CONCURRENT_CHAIN !== '0',
  };
}

const PROBE_GAP_MS = 10;

/**
 * Round trips of 64 bytes on one more connection to `port`, one every PROBE_GAP_MS, while
 * `work()` runs: what an interactive session (a shell) on the same path sees meanwhile. The
 * probe is opened, and has made a round trip, before the work starts, so it is never among the
 * streams a busy relay sheds while the bulk ones open. Resolves with [work's result, the round
 * trips in ms, whether the probe's connection closed before the work ended].
 */
async function withProbe(port, work) {
  const echo = await echoClientEndToEnd(port);
  const rtts = [];
  let done = false;
  let lost = false;
  void (async () => {
    while (!done) {
      let ms;
      try {
        ms = await echo.rtt();
      } catch {
        lost = !done;
        return;
      }
      if (!done) rtts.push(ms);
      await new Promise((r) => setTimeout(r, PROBE_GAP_MS));
    }
  })();
  try {
    return [await work(), rtts, lost];
  } finally {
    // Not waiting for the round trip under way: if the path broke, it never comes back, and the
    // case must fail with the transfers' error rather than hang.
    done = true;
    echo.close();
  }
}

/**
 * One case: `count` streams of `n` bytes each on `port`. Fairness is read over the middle half of
 * the bytes (see the section's note): each stream's rate while it was still moving in that window.
 * With `probe`, one more connection measures round trips meanwhile (withProbe).
 */
async function oneCase(port, count, n, direction, probe = false) {
  const [r, rtts, probeLost] = probe ? await withProbe(port, () => parallelTransfers(port, count, n, direction)) : [await parallelTransfers(port, count, n, direction), [], false];
  const { from, to, bytes } = r.mid;
  // Streams done before the window ends were served, not starved: they are left out.
  const rates = bytes.filter((_, i) => r.finishes[i] > to).map((b) => b / (to - from) / 1e6);
  const fairShare = rates.reduce((a, b) => a + b, 0) / rates.length;
  return {
    aggregate: (count * n) / r.seconds / 1e6,
    fairness: Math.min(...rates) / fairShare,
    fairShare,
    rates: rates.sort((a, b) => a - b),
    window: [from, to],
    first: Math.min(...r.finishes),
    last: r.seconds,
    reopened: r.reopened,
    rtts,
    probeLost,
  };
}

/** Resolves with { rows, notes }. */
export async function measureConcurrent(ctx) {
  const { streams: count, bytesPerStream: n, chain: withChain } = ctx.config.concurrent;
  const { runs } = ctx.config;
  const paths = [{ name: 'tunnel', port: ctx.connector.port, procs: [ctx.connector.proc, ctx.tether.relay, ctx.tether.host] }];
  if (withChain) paths.push({ name: 'chain', port: ctx.chain.port, procs: ctx.chain.procs });
  // A failed case says what the path's processes last logged.
  const measureCase = (path, count, bytes, direction) => oneCase(path.port, count, bytes, direction, count > 1).catch((err) => {
    const said = path.procs.map((p) => `${p.name}: ${p.lines.stderr.slice(-3).join(' | ') || '(nothing)'}`).join('; ');
    throw new Error(`${count} ${direction}s through the ${path.name}: ${err.message} (${said})`);
  });
  const rows = [];
  const notes = [];
  for (const [direction, label] of DIRECTIONS) {
    const results = Object.fromEntries(paths.map((p) => [p.name, { one: [], many: [] }]));
    for (let run = 0; run < runs; run++) {
      for (const path of paths) {
        const one = await measureCase(path, 1, count * n, direction);
        const many = await measureCase(path, count, n, direction);
        results[path.name].one.push(one);
        results[path.name].many.push(many);
        ctx.log(`  ${direction} ${path.name} run ${run + 1}: ${count} streams ${fmt(many.aggregate, 1)} MB/s (slowest / fair share ${fmt(many.fairness, 2)}), one stream ${fmt(one.aggregate, 1)} MB/s`);
      }
    }
    const prefix = `${count} streams ${label}`;
    for (const path of paths) {
      const res = results[path.name];
      const agg = median(res.many.map((m) => m.aggregate));
      const one = median(res.one.map((m) => m.aggregate));
      const fair = median(res.many.map((m) => m.fairness));
      const tunnel = path.name === 'tunnel';
      rows.push(row(`${prefix}: ${path.name} aggregate (MB/s)`, agg, 1));
      if (tunnel) rows.push(row(`${prefix}: one stream of the same bytes, tunnel (MB/s)`, one, 1));
      rows.push(row(`${prefix}: ${path.name} aggregate / one stream`, agg / one, 2, tunnel ? atLeast(1) : undefined));
      rows.push(row(`${prefix}: ${path.name} slowest stream / fair share`, fair, 2, tunnel ? atLeast(0.5) : undefined));
      const rtts = res.many.flatMap((m) => m.rtts);
      for (const p of [50, 99]) rows.push(row(`${prefix}: ${path.name} round trip meanwhile, p${p} (ms)`, percentile(rtts, p), 1));
      const perRun = res.many.map((m, i) => `run ${i + 1}: ${fmt(m.aggregate, 0)} MB/s aggregate against ${fmt(res.one[i].aggregate, 0)} for one stream; ` +
        `from ${fmt(m.window[0], 2)} s to ${fmt(m.window[1], 2)} s, ${m.rates.length} streams still moving at its end, fair share ${fmt(m.fairShare, 2)} MB/s, per stream min ${fmt(m.rates[0], 2)} / median ${fmt(median(m.rates), 2)} / max ${fmt(m.rates.at(-1), 2)} MB/s; ` +
        `first stream done at ${fmt(m.first, 2)} s, last at ${fmt(m.last, 2)} s; ${m.rtts.length} round trips meanwhile, p50 ${fmt(percentile(m.rtts, 50), 1)} / p99 ${fmt(percentile(m.rtts, 99), 1)} / max ${fmt(Math.max(...m.rtts), 1)} ms${m.probeLost ? ' (the probe\'s connection closed before the transfers ended)' : ''}${m.reopened > 0 ? `; ${m.reopened} connections opened again (the relay shed their streams)` : ''}`);
      notes.push(`${count} concurrent streams ${label} through the ${path.name === 'tunnel' ? 'tunnel' : 'forwarding chain'}, ${n / MiB} MiB each: ${perRun.join('; ')}.`);
    }
  }
  notes.push(`Concurrent streams: the driver opens ${count} TCP connections at once to the ${withChain ? 'connector\'s listener (and, for reference, to the forwarding chain\'s first forwarder)' : 'connector\'s listener'}, ` +
    'so all of them share the connector\'s relay connections; once every one reaches the target end to end (a one-byte hello answered by it; a connection whose stream the relay sheds, as its adaptive open limit does on a busy machine, is opened again after a second), the same request goes out on all in one turn (uploads written round-robin, 64 KiB per stream per turn, to the target\'s sink, which confirms every 64 KiB; downloads from its source), ' +
    `and aggregate = ${count} × ${n / MiB} MiB / time until the last stream finished. Meanwhile one more connection on the same path, opened first (and opened again should the relay shed it) and answered once before the bulk streams open, sends 64 bytes to the target's echo and waits for them, ${PROBE_GAP_MS} ms apart, until the last stream finished: "round trip meanwhile" is what a shell sharing the path with the bulk streams would see (all runs' round trips together). "One stream" moves the same ${(count * n) / MiB} MiB alone, right before, on the same path. ` +
    'Fairness is read over the middle half of the bytes (from when all streams together had moved 25% of them to when they had moved 75%), so the start (loopback sockets take megabytes at once, a head start as large as a whole stream) and the tail are left out: ' +
    'a stream\'s own rate is what it moved in that window over its length, for each stream not yet finished at its end (those done earlier were served, not starved); fair share = the mean of those rates (their aggregate / their number); "slowest stream / fair share" is the slowest of them over it (0 = a stream starved while the others moved). ' +
    '(Bytes over each stream\'s whole life would not show unfairness: started together, the slowest stream is the one that finishes last, so its rate is always exactly aggregate / N.) Medians of the runs.' +
    (withChain ? ` The chain's rows are informational: it has no scheduler of its own, so its fairness is what the kernel and Node make of ${count} sockets per hop (streams there can stand still for a second while others finish).` : ''));
  return { rows, notes };
}
