import { AnalyticsApi, type AnalyticsGroup, type AnalyticsStep, type ForecastMetric } from '../core/analytics-api.js';
import { analyticsTable, forecastText } from './analytics-format.js';
import { parseTime } from './audit-format.js';
import type { ClientValues } from './flags.js';
import { info, UsageError } from './output.js';
import { relayAndToken } from './options.js';
import { printListing } from './sharing-commands.js';
import { tableText } from './sharing-format.js';

function api(values: ClientValues): AnalyticsApi {
  const { relay, token } = relayAndToken(values);
  return AnalyticsApi.of(relay, token);
}

export interface AnalyticsValues extends ClientValues {
  by?: AnalyticsGroup;
  step?: AnalyticsStep;
  from?: string;
  to?: string;
  json?: boolean;
}

/** `tether analytics [--by] [--step] [--from] [--to] [--json]`: usage roll-ups, one row per bucket and key. */
export async function analyticsCommand(values: AnalyticsValues): Promise<void> {
  const from = values.from === undefined ? undefined : parseTime(values.from, '--from');
  const to = values.to === undefined ? undefined : parseTime(values.to, '--to');
  if (from !== undefined && to !== undefined && from >= to) throw new UsageError('--from must be before --to');
  const answer = await api(values).usage({ by: values.by, step: values.step, from, to });
  printListing(values, answer, analyticsTable(answer.rows, answer.by), `No usage from ${answer.from} to ${answer.to} (per ${answer.step})`);
}

export interface ForecastValues extends ClientValues {
  metric?: ForecastMetric;
  horizon?: string;
  scope?: 'node' | 'cluster';
  node?: string;
  capacity?: string;
  json?: boolean;
}

/** `tether analytics forecast --metric M --horizon D [--capacity N]`: the forecast table, its backtest error and the capacity date. */
export async function forecastCommand(values: ForecastValues): Promise<void> {
  if (values.metric === undefined) throw new UsageError('--metric is required: streams, bytes or tunnels');
  if (values.horizon === undefined) throw new UsageError('--horizon is required: a duration such as 48h, 7d or 2w');
  if (!/^(\d+w)?(\d+d)?(\d+h)?$/.test(values.horizon) || values.horizon === '') throw new UsageError(`--horizon must be whole hours, days or weeks such as 48h, 7d or 2w, got ${JSON.stringify(values.horizon)}`);
  let capacity: number | undefined;
  if (values.capacity !== undefined) {
    capacity = /^\d{1,15}(\.\d{1,6})?$/.test(values.capacity) ? Number(values.capacity) : NaN;
    if (!(capacity > 0)) throw new UsageError(`--capacity must be a positive number (streams, bytes per hour or tunnels), got ${JSON.stringify(values.capacity)}`);
  }
  if (values.node !== undefined && values.scope !== 'node') throw new UsageError('--node goes with --scope node');
  const answer = await api(values).forecast({ metric: values.metric, horizon: values.horizon, scope: values.scope, node: values.node, capacity });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return;
  }
  const { table, summary } = forecastText(answer);
  if (table.rows.length > 0) process.stdout.write(tableText(table, process.stdout.isTTY === true));
  for (const line of summary) info(line);
}
