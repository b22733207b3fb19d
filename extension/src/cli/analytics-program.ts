import type { Command } from 'commander';
import { action, examples, type RunContext } from './commands.js';
import { addClientOptions, FlagOption, flagValues } from './flags.js';

// Usage analytics: roll-ups per tunnel, user or node, and forecasts. Actions load on demand.

const load = () => import('./analytics-commands.js');
const TIME = 'ISO 8601, e.g. 2026-12-01 or 2026-12-01T09:30:00Z; no zone: local time';

/** `tether analytics` and `tether analytics forecast`. */
export function addAnalyticsCommands(program: Command, ctx: RunContext): void {
  const analytics = addClientOptions(program.command('analytics').summary('on its own: usage per tunnel, user or node; forecast: when capacity is reached')
    .description('Usage rolled up per minute, hour or day: one row per bucket and tunnel, user or node, oldest first: TIME, KEY, BYTES_UP, BYTES_DOWN, STREAMS, SESSIONS, AVG_SESSION_S, PEAK, FAILED (wire code:count), PROTOCOLS (ended streams by protocol:count) (tab-separated; a header only on a terminal). A user sees the tunnels they own; the admin token sees all.')
    .enablePositionalOptions()
    .addOption(new FlagOption('--by <what>', 'one row per tunnel, user or node', { choices: ['tunnel', 'user', 'node'], default: 'tunnel' }))
    .addOption(new FlagOption('--step <step>', 'bucket size', { choices: ['minute', 'hour', 'day'], default: 'hour' }))
    .addOption(new FlagOption('--from <time>', `buckets from TIME, ${TIME}`, { default: 'a step-dependent span before --to (1 h of minutes, 1 day of hours, 30 days of days)' }))
    .addOption(new FlagOption('--to <time>', `buckets before TIME, ${TIME}`, { default: 'now' }))
    .addOption(new FlagOption('--json', "the relay's answer as one JSON document")));
  examples(analytics, [
    ['tether analytics', 'the last day, per hour and tunnel'],
    ['tether analytics --by user --step minute --json', 'the last hour per minute and user, as JSON'],
    ['tether analytics --by node --step day --from 2026-11-01', 'per node and day since November 1st (the admin token)'],
  ]);
  action(ctx, analytics, async () => (await load()).analyticsCommand(flagValues(analytics)));

  const forecast = addClientOptions(analytics.command('forecast').summary('forecast streams, bytes or active tunnels, with the backtest error and the capacity date')
    .description('Forecast hourly usage (Holt-Winters with daily and weekly seasons when there is enough history) and print TIME, FORECAST, LOWER, UPPER (tab-separated) on stdout; the model, its backtest error (MAPE, MASE, interval coverage), the capacity date and notes on stderr.')
    .addOption(new FlagOption('--metric <metric>', 'streams: peak concurrent streams; bytes: bytes per hour; tunnels: active tunnels', { choices: ['streams', 'bytes', 'tunnels'] }))
    .addOption(new FlagOption('--horizon <duration>', 'how far ahead, in whole hours, days or weeks: 48h, 7d, 2w'))
    .addOption(new FlagOption('--capacity <n>', 'the configured capacity: print the date the forecast reaches it'))
    .addOption(new FlagOption('--scope <scope>', 'the whole cluster, or one node', { choices: ['node', 'cluster'], default: 'cluster' }))
    .addOption(new FlagOption('--node <id>', 'with --scope node: which node', { default: 'the node that answers' }))
    .addOption(new FlagOption('--json', "the relay's answer as one JSON document")));
  examples(forecast, [
    ['tether analytics forecast --metric streams --horizon 7d --capacity 10000', 'at this trend, when the cluster reaches 10 000 concurrent streams'],
    ['tether analytics forecast --metric bytes --horizon 48h --scope node --json', 'the answering node, as JSON'],
  ]);
  action(ctx, forecast, async () => (await load()).forecastCommand(flagValues(forecast)));
}
