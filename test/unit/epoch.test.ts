import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Epoch } from '../../runtime/sink/runner/epoch.ts';

test('a token stays current until something changes', () => {
  const epoch = new Epoch();
  const token = epoch.token();
  assert.equal(epoch.isCurrent(token), true);
  epoch.changed();
  assert.equal(epoch.isCurrent(token), false);
  assert.equal(epoch.isCurrent(epoch.token()), true);
});

test('a plan made half-way through a change is stale once the change ends', async () => {
  const epoch = new Epoch();
  let midway: number | undefined;
  await epoch.during(async () => {
    await Promise.resolve();
    // The read ahead lands here, between two round trips of the change.
    midway = epoch.token();
  });
  assert.ok(midway !== undefined);
  assert.equal(epoch.isCurrent(midway), false);
});

test('a change that fails still ends', async () => {
  const epoch = new Epoch();
  let midway = -1;
  await assert.rejects(
    epoch.during(async () => {
      midway = epoch.token();
      throw new Error('redis went away');
    }),
    /redis went away/,
  );
  assert.equal(epoch.isCurrent(midway), false);
  const after = epoch.token();
  assert.equal(epoch.isCurrent(after), true);
});
