import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { parseDuration } from '../../runtime/retention/duration.ts';
import { trimBound } from '../../runtime/retention/trim-bound.ts';

test('durations are read in the units operators write', () => {
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('0'), 0);
});

test('a duration typed wrong is a ConfigError naming it, never zero', () => {
  for (const bad of ['', 'h', '24 hours', '-1h', '1w', '1e3', '10m5s']) {
    assert.throws(
      () => parseDuration(bad),
      (err: unknown) => err instanceof ConfigError && err.message.includes(`"${bad}"`),
      bad,
    );
  }
});

const NOW = 1_700_000_100_000;

test('without consumer groups nothing is trimmed', () => {
  assert.equal(trimBound([], 0, NOW), undefined);
});

test('the bound is the lowest of what every group needs and every sink applied', () => {
  const bound = trimBound(
    [
      { name: 'fast', lastDelivered: '1700000000900-0', applied: '1700000000900-0' },
      { name: 'slow', lastDelivered: '1700000000500-3' },
      { name: 'bridge', lastDelivered: '1700000000800-0' },
    ],
    0,
    NOW,
  );
  assert.deepEqual(bound, { minId: '1700000000500-3', heldBy: 'slow' });
});

test('a pending entry holds the bound below the last delivered one', () => {
  const bound = trimBound(
    [{ name: 'crashed', lastDelivered: '1700000000900-0', lowestPending: '1700000000100-7' }],
    0,
    NOW,
  );
  assert.deepEqual(bound, { minId: '1700000000100-7', heldBy: 'crashed' });
});

test('a sink whose watermark lags its group holds the bound at the watermark', () => {
  const bound = trimBound(
    [{ name: 'postgres', lastDelivered: '1700000000900-0', applied: '1700000000200-0' }],
    0,
    NOW,
  );
  assert.deepEqual(bound, { minId: '1700000000200-0', heldBy: 'postgres' });
});

test('a replay asked of a sink and not carried out yet holds the bound where it starts', () => {
  const bound = trimBound(
    [
      {
        name: 'postgres',
        lastDelivered: '1700000000900-0',
        applied: '1700000000900-0',
        replayFrom: '1700000000050-0',
      },
    ],
    0,
    NOW,
  );
  assert.deepEqual(bound, { minId: '1700000000050-0', heldBy: 'postgres' });
});

test('ids compare as numbers, not as text', () => {
  const bound = trimBound(
    [
      { name: 'a', lastDelivered: '999999999999-0' },
      { name: 'b', lastDelivered: '1000000000000-0' },
    ],
    0,
    NOW,
  );
  assert.equal(bound?.heldBy, 'a');
});

test('the minimum age keeps recent entries even when every group is past them', () => {
  const bound = trimBound(
    [{ name: 'fast', lastDelivered: '1700000000900-0', applied: '1700000000900-0' }],
    100_000,
    NOW,
  );
  assert.deepEqual(bound, { minId: `${NOW - 100_000}-0`, heldBy: 'min-age' });
});
