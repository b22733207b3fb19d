import type { StartRelayOptions } from '@tether/relay';
import { parseDuration } from './duration.js';
import { UsageError } from './output.js';

const STEPS = ['minute', 'hour', 'day'] as const;

/**
 * `--analytics-retention minute=48h,hour=90d,day=730d` (or TETHER_ANALYTICS_RETENTION): how long
 * usage roll-ups of each resolution are kept; the ones not given keep their defaults.
 */
export function analyticsSettings(values: { 'analytics-retention'?: string }, env: NodeJS.ProcessEnv = process.env): Pick<StartRelayOptions, 'analyticsRetention'> {
  const text = values['analytics-retention'] ?? (env.TETHER_ANALYTICS_RETENTION || undefined);
  if (text === undefined) return { analyticsRetention: undefined };
  const retention: Partial<Record<(typeof STEPS)[number], number>> = {};
  for (const part of text.split(',')) {
    const [step, duration, extra] = part.split('=');
    if (!(STEPS as readonly string[]).includes(step) || duration === undefined || extra !== undefined) {
      throw new UsageError(`--analytics-retention takes STEP=DURATION pairs, STEP minute, hour or day, e.g. minute=48h,hour=90d,day=730d; got ${JSON.stringify(part)}`);
    }
    retention[step as (typeof STEPS)[number]] = parseDuration(duration, `--analytics-retention ${step}`);
  }
  return { analyticsRetention: retention };
}
