import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgePartition, type LagSample } from '../../runtime/monitor/partition-state.ts';

const WINDOW = 10_000;

/** Samples a second apart: [behind, applied id, entries added]. */
function samples(...rows: Array<[number | undefined, string, number]>): LagSample[] {
  return rows.map(([behind, applied, added], i) => ({
    at: 1_000_000 + i * 1000,
    behind,
    oldestUnappliedMs: behind === 0 ? 0 : 500 * (i + 1),
    applied,
    added,
  }));
}

test('a partition no live instance holds is stopped, caught up or not', () => {
  assert.equal(judgePartition(samples([0, '5-0', 5]), false, WINDOW).state, 'stopped');
  assert.equal(judgePartition(samples([3, '5-0', 8]), false, WINDOW).state, 'stopped');
  assert.equal(judgePartition([], false, WINDOW).state, 'stopped');
});

test('behind with the applied position not moving over the window is stalled', () => {
  const s = samples([2, '5-0', 7], [4, '5-0', 9], [6, '5-0', 11]);
  assert.equal(judgePartition(s, true, WINDOW).state, 'stalled');
});

test('behind, applying, and the lag growing over the window is lagging', () => {
  const s = samples([2, '5-0', 7], [4, '6-0', 10], [6, '8-0', 14]);
  const judged = judgePartition(s, true, WINDOW);
  assert.equal(judged.state, 'lagging');
  // 7 written over 2 s, the lag grew by 4: 3 applied.
  assert.equal(judged.applyRate, 1.5);
  assert.equal(judged.writeRate, 3.5);
  assert.equal(judged.catchUpSeconds, undefined, 'not gaining on the writers');
});

test('far behind but catching up is ok, with the time to catch up at the window’s rates', () => {
  const s = samples([1000, '5-0', 2000], [900, '105-0', 2000], [800, '205-0', 2000]);
  const judged = judgePartition(s, true, WINDOW);
  assert.equal(judged.state, 'ok');
  assert.equal(judged.applyRate, 100);
  assert.equal(judged.catchUpSeconds, 8);
});

test('a partition caught up at any moment of the window is ok, however it grows after', () => {
  const s = samples([0, '5-0', 5], [0, '5-0', 5], [3, '5-0', 8], [7, '5-0', 12]);
  assert.equal(judgePartition(s, true, 2500).state, 'ok');
});

test('only the window counts: an old catch-up does not hide a stall that lasts a window', () => {
  const s = samples([0, '5-0', 5], [2, '5-0', 7], [2, '5-0', 7], [2, '5-0', 7], [2, '5-0', 7]);
  // The window of 2 s reaches back to the third sample (and one before it).
  assert.equal(judgePartition(s, true, 2000).state, 'stalled');
  assert.equal(judgePartition(s, true, 10_000).state, 'ok');
});

test('one sample is not a trend: behind is ok until a window shows otherwise', () => {
  assert.equal(judgePartition(samples([50, '5-0', 55]), true, WINDOW).state, 'ok');
});

test('an unknown count is judged by the age of the oldest unapplied entry', () => {
  const s = samples([undefined, '5-0', 7], [undefined, '6-0', 9], [undefined, '7-0', 11]);
  const judged = judgePartition(s, true, WINDOW);
  assert.equal(judged.state, 'lagging');
  assert.equal(judged.applyRate, undefined, 'no rate without counts');
  assert.equal(
    judgePartition(
      s.map((x) => ({ ...x, applied: '5-0' })),
      true,
      WINDOW,
    ).state,
    'stalled',
  );
});

test('caught up takes no time to catch up', () => {
  const judged = judgePartition(samples([0, '5-0', 5], [0, '6-0', 6]), true, WINDOW);
  assert.equal(judged.state, 'ok');
  assert.equal(judged.catchUpSeconds, 0);
});
