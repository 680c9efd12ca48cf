import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { postgresOffsetsBehind } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import {
  createPostgresSinkFixture,
  type PostgresSinkFixture,
} from '../support/postgres-sink-fixture.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;
const N = 300;

describe('cdc replay --wait: follows a replay until the running sink has caught up', () => {
  let fx: PostgresSinkFixture;

  const cdc = (...args: string[]) => runCdc(fx.prefix, ...args);
  const progressLines = (out: string) =>
    out
      .split('\n')
      .map((l) => /^(\d+)\/(\d+) entries, (\d+)\/(\d+) partitions caught up$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => m.slice(1).map(Number));

  before(async () => {
    fx = await createPostgresSinkFixture('cli_replay_wait', ['todo'], P);
    // Small batches: the replay takes several of them, so there is progress to follow.
    await fx.startRunner('pg-1', {}, 'postgres', { batchSize: 10 });
    await fx.capture.writeMany(
      'todo',
      Array.from({ length: N }, (_, k) => ({
        op: 'upsert' as const,
        record: { id: `k${k}`, name: `name ${k}` },
      })),
    );
    await waitFor('the sink applied everything', () => fx.appliedAll('todo'));
  });

  after(() => fx.cleanup());

  test('exit 0 once every partition is applied up to where its stream ended: the rows the target lost are back then', async () => {
    await fx.pgCtx.pool.query(`DELETE FROM ${pg.escapeIdentifier(fx.pgCtx.schema)}.todo`);
    const { code, out } = await cdc('replay', '--sink', 'postgres', '--from-start', '--wait');
    assert.equal(code, 0, out);
    // Nothing waited for after the command returned: it returned once the replay was applied.
    assert.equal((await fx.rows('todo')).size, N);
    assert.deepEqual(
      await postgresOffsetsBehind(
        fx.pgCtx.pool,
        fx.pgCtx.schema,
        fx.redisCtx.redis,
        fx.capture.keys,
        'todo',
      ),
      [],
    );
    const steps = progressLines(out);
    assert.ok(steps.length >= 1, out);
    assert.deepEqual(steps.at(-1), [N, N, P, P]);
    for (let i = 1; i < steps.length; i++)
      assert.ok((steps[i]?.[0] ?? 0) >= (steps[i - 1]?.[0] ?? 0), 'progress never goes back');
    assert.match(out, /\ncaught up: sink postgres applied the replay\n$/);
  });

  test('--json keeps stdout one JSON document; the progress goes to stderr', async () => {
    const { code, out, err } = await cdc(
      '--json',
      'replay',
      '--sink',
      'postgres',
      '--from-start',
      '--wait',
    );
    assert.equal(code, 0, out);
    const rows = JSON.parse(out) as Array<{ entries_to_read_again: number }>;
    assert.equal(
      rows.reduce((sum, r) => sum + r.entries_to_read_again, 0),
      N,
    );
    assert.deepEqual(progressLines(err).at(-1), [N, N, P, P]);
  });

  test('with no instance running it times out with exit 5 and says how far it got; started again, it catches up', async () => {
    for (const r of fx.runners) await r.stop();
    const timedOut = await cdc(
      'replay',
      '--sink',
      'postgres',
      '--from-start',
      '--wait',
      '--timeout',
      '1.5',
    );
    assert.equal(timedOut.code, 5, timedOut.out);
    assert.match(
      timedOut.out,
      new RegExp(
        `cdc: sink postgres had not caught up after 1.5 s: 0/${N} entries, 0/${P} partitions`,
      ),
    );
    assert.equal(await fx.redisCtx.redis.hlen(fx.capture.keys.replayRequests('postgres')), P);

    await fx.startRunner('pg-2');
    const resumed = await cdc(
      'replay',
      '--sink',
      'postgres',
      '--from-start',
      '--wait',
      '--timeout',
      '60',
    );
    assert.equal(resumed.code, 0, resumed.out);
    assert.equal(await fx.redisCtx.redis.hlen(fx.capture.keys.replayRequests('postgres')), 0);

    assert.equal(
      (await cdc('replay', '--sink', 'postgres', '--from-start', '--wait', '--dry-run')).code,
      2,
    );
    assert.equal(
      (await cdc('replay', '--sink', 'postgres', '--from-start', '--wait', '--timeout', 'soon'))
        .code,
      2,
    );
  });
});
