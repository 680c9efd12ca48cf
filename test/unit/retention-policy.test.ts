import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProjectConfig } from '../../runtime/config/project-config.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { holdBack } from '../../runtime/retention/held-back.ts';
import { resolveRetentionOptions } from '../../runtime/retention/retention-options.ts';
import {
  DEFAULT_RETENTION_POLICY,
  resolveRetentionPolicy,
} from '../../runtime/retention/retention-policy.ts';

const schema = { type: 'record', name: 'Thing', fields: [{ name: 'id', type: 'string' }] };

test('a retention section is read in the units operators write, defaults filled in', () => {
  assert.deepEqual(resolveRetentionPolicy('entities.user', undefined), DEFAULT_RETENTION_POLICY);
  assert.deepEqual(
    resolveRetentionPolicy('entities.user', {
      minAge: '30m',
      keepExtra: 500,
      maxHoldBack: '2h',
      onHoldBack: 'trim',
    }),
    {
      enabled: true,
      minAgeMs: 1_800_000,
      keepExtra: { entries: 500 },
      maxHoldBack: { ms: 7_200_000 },
      onHoldBack: 'trim',
    },
  );
  const partial = resolveRetentionPolicy('entities.user', { keepExtra: '10m', maxHoldBack: 1e6 });
  assert.equal(partial.minAgeMs, 86_400_000);
  assert.deepEqual(partial.keepExtra, { ms: 600_000 });
  assert.deepEqual(partial.maxHoldBack, { entries: 1_000_000 });
  assert.equal(partial.onHoldBack, 'hold');
  assert.equal(resolveRetentionPolicy('entities.user', { enabled: false }).enabled, false);
});

test('a retention setting typed wrong is a ConfigError naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['24h', /^entities\.user\.retention must be an object/],
    [{ minAge: '24 hours' }, /^entities\.user\.retention\.minAge: not a duration: "24 hours"/],
    [{ keepExtra: -1 }, /^entities\.user\.retention\.keepExtra must be a whole number/],
    [{ keepExtra: 1.5 }, /^entities\.user\.retention\.keepExtra must be a whole number/],
    [{ maxHoldBack: true }, /^entities\.user\.retention\.maxHoldBack must be a number of entries/],
    [{ onHoldBack: 'drop' }, /^entities\.user\.retention\.onHoldBack must be "hold" or "trim"/],
    [{ enabled: 'yes' }, /^entities\.user\.retention\.enabled must be true or false/],
    [{ minage: '1h' }, /^entities\.user\.retention\.minage is not a retention setting/],
  ];
  for (const [input, message] of cases)
    assert.throws(
      () => resolveRetentionPolicy('entities.user', input),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      JSON.stringify(input),
    );
});

test('the runner retention interval is 0 (off) or at least 10 ms', () => {
  assert.equal(resolveRetentionOptions().intervalMs, 30_000);
  assert.equal(resolveRetentionOptions({ intervalMs: 0 }).intervalMs, 0);
  assert.throws(() => resolveRetentionOptions({ intervalMs: 5 }), /retention\.intervalMs/);
});

test("the project file's retention sections are validated at load and kept from the capture", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cdc-retention-'));
  try {
    const file = join(dir, 'cdc.config.json');
    await writeFile(
      file,
      JSON.stringify({
        entities: {
          thing: { schema, partitions: 2, retention: { minAge: '1h', onHoldBack: 'trim' } },
          other: { schema },
        },
      }),
    );
    const config = await loadProjectConfig({ CDC_CONFIG: file });
    assert.deepEqual(config.entities.thing, { schema, partitions: 2 });
    assert.equal(config.retention?.thing?.minAgeMs, 3_600_000);
    assert.equal(config.retention?.thing?.onHoldBack, 'trim');
    assert.deepEqual(config.retention?.other, DEFAULT_RETENTION_POLICY);

    await writeFile(
      file,
      JSON.stringify({ entities: { thing: { schema, retention: { maxHoldBack: '1 day' } } } }),
    );
    await assert.rejects(
      loadProjectConfig({ CDC_CONFIG: file }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith('entities.thing.retention.maxHoldBack: not a duration'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const NOW = 1_700_000_100_000;
const HOUR = 3_600_000;

test('the group below every other need and the minimum age holds back the range up to the next need', () => {
  const groups = [
    { name: 'postgres', lastDelivered: `${NOW - 1000}-0`, applied: `${NOW - 1000}-0` },
    { name: 'mongo', lastDelivered: '1700000000000-5', applied: '1700000000000-3' },
  ];
  // Minimum age 0: without mongo, postgres' need would be the bound.
  assert.deepEqual(holdBack(groups, 0, NOW), {
    group: 'mongo',
    from: '1700000000000-3',
    to: `${NOW - 1000}-0`,
  });
  // A minimum age between the two needs: mongo holds back the range up to it.
  assert.deepEqual(holdBack(groups, 50_000, NOW)?.to, `${NOW - 50_000}-0`);
  // Older than every need: the minimum age keeps it all, no group holds anything back alone.
  assert.equal(holdBack(groups, HOUR, NOW), undefined);
  assert.equal(holdBack([], 0, NOW), undefined);
});
