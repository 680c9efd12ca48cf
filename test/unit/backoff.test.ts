import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../runtime/backoff.ts';

test('backoff doubles per attempt, between half and all of the base', () => {
  const options = { initialMs: 100, maxMs: 10_000, factor: 2 };
  assert.equal(
    backoffDelay(1, options, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, options, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, options, () => 0),
    200,
  );
  assert.equal(
    backoffDelay(3, options, () => 1),
    400,
  );
});

test('backoff is capped at maxMs however many attempts failed', () => {
  const options = { initialMs: 100, maxMs: 1000 };
  assert.equal(
    backoffDelay(50, options, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(10_000, options, () => 0),
    500,
  );
});

test('jitter spreads retries over the window', () => {
  const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(4, { initialMs: 100 })));
  assert.ok(delays.size > 50, 'delays are not all the same');
  for (const d of delays) assert.ok(d >= 400 && d <= 800);
});
