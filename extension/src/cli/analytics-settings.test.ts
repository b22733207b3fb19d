import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyticsSettings } from './analytics-settings.js';

test('--analytics-retention: STEP=DURATION pairs, else TETHER_ANALYTICS_RETENTION, else the defaults', () => {
  assert.deepEqual(analyticsSettings({}, {}), { analyticsRetention: undefined });
  assert.deepEqual(analyticsSettings({ 'analytics-retention': 'minute=6h,day=365d' }, {}), { analyticsRetention: { minute: 6 * 3_600_000, day: 365 * 86_400_000 } });
  assert.deepEqual(analyticsSettings({}, { TETHER_ANALYTICS_RETENTION: 'hour=30d' }), { analyticsRetention: { hour: 30 * 86_400_000 } });
  for (const [bad, message] of [['week=3d', /STEP minute, hour or day/], ['minute', /STEP=DURATION pairs/], ['minute=2', /--analytics-retention minute must be a duration/], ['hour=1d=2', /STEP=DURATION/]] as const) {
    assert.throws(() => analyticsSettings({ 'analytics-retention': bad }, {}), { name: 'UsageError', message }, bad);
  }
});
