import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseSeasons, defaultSeasons } from './seasons.js';

test('the default seasons are a day and a week, where they are whole numbers of steps above 1', () => {
  assert.deepEqual(defaultSeasons(60_000), [1440, 10080]);
  assert.deepEqual(defaultSeasons(300_000), [288, 2016]);
  assert.deepEqual(defaultSeasons(3_600_000), [24, 168]);
  assert.deepEqual(defaultSeasons(86_400_000), [7]);
  assert.deepEqual(defaultSeasons(7 * 60_000), [1440]); // a day is 205.7 steps of 7 min, a week exactly 1440
  assert.deepEqual(defaultSeasons(7 * 86_400_000), []);
});

test('seasons are dropped longest first until two cycles fit, each with a note', () => {
  assert.deepEqual(chooseSeasons([24, 168], 336), { seasons: [24, 168], dropped: [], notes: [] });
  const c = chooseSeasons([24, 168], 335);
  assert.deepEqual([c.seasons, c.dropped], [[24], [168]]);
  assert.deepEqual(chooseSeasons([24, 168], 47).seasons, []);
  assert.equal(chooseSeasons([24, 168], 47).notes.length, 2);
});
