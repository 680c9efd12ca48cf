import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { expectedState } from '../support/expected-state.ts';
import { HookedSink } from '../support/hooked-sink.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

/**
 * Regression: a sink whose target lost data (restored from an older backup, dropped, or offsets
 * deleted by an operator to replay) used to resume at the consumer group's position, so the gap
 * between the target's offset and the group was never applied. The target's offset now wins.
 */
describe('regression: replay after the target lost its data and offsets', () => {
  let redisCtx: TestRedis;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;

  const runOnce = async (until: () => Promise<boolean>) => {
    const runner = await startTestRunner(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      prefix,
    );
    try {
      await waitFor('sink applied', until, 30_000);
    } finally {
      await runner.stop();
    }
  };

  /** The sink's consumer group on a partition, as XINFO GROUPS reports it. */
  const groupInfo = async (p: number) => {
    const [group] = (await redisCtx.redis.xinfo('GROUPS', capture.keys.stream('todo', p))) as Array<
      Array<string | number | null>
    >;
    const field = (name: string) => group![group!.indexOf(name) + 1];
    return { lag: field('lag'), pending: field('pending') };
  };

  const table = () => `${pg.escapeIdentifier(pgCtx.schema)}.todo`;
  const rows = async () =>
    new Map(
      (
        await pgCtx.pool.query<{ id: string; name: string }>(`SELECT id, name FROM ${table()}`)
      ).rows.map((r) => [r.id, r.name]),
    );

  before(async () => {
    redisCtx = await createTestRedis('replayloss');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('replayloss');
    capture = await createTestCapture(prefix, ['todo'], P);
  });

  after(async () => {
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('emptying the table and its offsets makes the next start rebuild the whole state', async () => {
    for (let i = 0; i < 60; i++) await capture.upsert('todo', { id: `r${i % 20}`, name: `v${i}` });
    await capture.delete('todo', 'r3');
    const expected = new Map(
      [...(await expectedState(redisCtx.redis, capture.keys, capture.registry, 'todo', P))].map(
        ([k, r]) => [k, r.name],
      ),
    );
    await runOnce(async () => (await rows()).size === expected.size);
    assert.deepEqual(await rows(), expected);

    await pgCtx.pool.query(`TRUNCATE ${table()}`);
    await pgCtx.pool.query(`DELETE FROM ${pg.escapeIdentifier(pgCtx.schema)}.cdc_offsets`);
    await runOnce(async () => (await rows()).size === expected.size);
    assert.deepEqual(await rows(), expected);
  });

  test('a replay from an older offset (a restored backup) shows its backlog as lag while it drains', async () => {
    // Offsets as an older backup of the target holds them: five entries into each partition.
    const behind: number[] = [];
    for (let p = 0; p < P; p++) {
      const stream = capture.keys.stream('todo', p);
      const entries = await redisCtx.redis.xrange(stream, '-', '+');
      const [id] = entries[4]!;
      const [ms, seq] = id.split('-');
      await pgCtx.pool.query(
        `UPDATE ${pg.escapeIdentifier(pgCtx.schema)}.cdc_offsets SET stream_id = $1, ms = $2, seq = $3 WHERE entity = 'todo' AND partition = $4`,
        [id, ms, seq, p],
      );
      behind.push(entries.length - 5);
    }
    let applying = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink = new HookedSink(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      {
        beforeApply: async () => {
          applying = true;
          await released;
        },
      },
    );
    // One entry per partition per read: most of the replay is still unread when it is held.
    const runner = await startTestRunner(sink, prefix, undefined, { batchSize: P });
    try {
      await waitFor('the replay held in its first apply', () => applying);
      for (let p = 0; p < P; p++) {
        const group = await groupInfo(p);
        assert.equal(typeof group.lag, 'number', `partition ${p}: the group's lag is unknown`);
        assert.equal(
          Number(group.lag) + Number(group.pending),
          behind[p],
          `partition ${p}: every entry above the offset is behind`,
        );
      }
      release();
      await waitFor('replay drained', async () => {
        for (let p = 0; p < P; p++) {
          const { lag, pending } = await groupInfo(p);
          if (lag !== 0 || pending !== 0) return false;
        }
        return true;
      });
    } finally {
      release();
      await runner.stop();
    }
  });
});
