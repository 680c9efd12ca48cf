import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { Keys } from '../../runtime/keys.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { appendUndecodable, startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

describe('dead letters are written once per source entry (real Redis and PostgreSQL)', {
  timeout: 60_000,
}, () => {
  test('adding the same source entry again returns the first dead letter; removing it allows a new one', async () => {
    const t = await createTestRedis('dlq_once');
    try {
      const keys = new Keys(t.capturePrefix);
      const letters = new DeadLetters(t.redis, keys, 'pg');
      const fields = [Buffer.from('op'), Buffer.from('u'), Buffer.from('data'), Buffer.from([0])];
      const first = await letters.add('failed', 'todo', 1, 'k', '5-0', 'boom', fields);
      const again = await letters.add('failed', 'todo', 1, 'k', '5-0', 'boom again', fields);
      assert.equal(again, first);
      // Same stream id in another partition is another entry.
      const other = await letters.add('failed', 'todo', 0, 'k', '5-0', 'boom', fields);
      assert.notEqual(other, first);
      assert.deepEqual(
        (await letters.list()).map((l) => [l.partition, l.sourceId, l.error]),
        [
          [1, '5-0', 'boom'],
          [0, '5-0', 'boom'],
        ],
      );
      await letters.remove([first, other]);
      assert.deepEqual(await letters.list(), []);
      assert.equal(await t.redis.hlen(keys.deadLetterIndex('pg')), 0, 'index entries left');
      const later = await letters.add(
        'failed',
        'todo',
        1,
        'k',
        '5-0',
        'failed on a replay',
        fields,
      );
      assert.notEqual(later, first);
      assert.deepEqual(
        (await letters.list()).map((l) => l.error),
        ['failed on a replay'],
      );
    } finally {
      await t.cleanup();
    }
  });

  test('a sink that reads a dead-lettered entry again (offsets lost, replay) does not write a second dead letter', async () => {
    const redisCtx = await createTestRedis('dlq_replay');
    const pgCtx = await createTestPostgres('dlq_replay');
    const capture = await createTestCapture(redisCtx.capturePrefix, ['todo'], P);
    const sink = () =>
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema, name: 'postgres' });
    try {
      const p = partitionOf('corrupt', P);
      await capture.upsert('todo', { id: 'before', name: 'fine' });
      await appendUndecodable(
        redisCtx.redis,
        capture.keys,
        'todo',
        p,
        'corrupt',
        capture.schemaOf('todo').id,
      );
      await capture.upsert('todo', { id: 'corrupt', name: 'held behind it' });
      await capture.upsert('todo', { id: 'after', name: 'fine' });
      const caughtUp = () => sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'postgres');
      const letters = new DeadLetters(redisCtx.redis, capture.keys, 'postgres');
      const kinds = async () => (await letters.list({ key: 'corrupt' })).map((l) => l.kind);

      let runner = await startTestRunner(sink(), redisCtx.capturePrefix, 'first');
      await waitFor('first pass applied', caughtUp);
      await runner.stop();
      assert.deepEqual(await kinds(), ['failed', 'held']);

      // As after a crash between the dead letters and the offset commit, or a restore: the
      // target forgets its offsets, so the sink reads and judges the same entries again.
      await pgCtx.pool.query(
        `DELETE FROM ${pg.escapeIdentifier(pgCtx.schema)}.cdc_offsets WHERE sink = 'postgres'`,
      );
      runner = await startTestRunner(sink(), redisCtx.capturePrefix, 'second');
      // The watermarks are already at the end: the offsets in PostgreSQL say when the replay is.
      const offsetsAtEnd = async () => {
        const { rows } = await pgCtx.pool.query<{ partition: number; stream_id: string }>(
          `SELECT partition, stream_id FROM ${pg.escapeIdentifier(pgCtx.schema)}.cdc_offsets WHERE sink = 'postgres'`,
        );
        for (let q = 0; q < P; q++) {
          const [last] = await redisCtx.redis.xrevrange(
            capture.keys.stream('todo', q),
            '+',
            '-',
            'COUNT',
            1,
          );
          if (last && rows.find((r) => r.partition === q)?.stream_id !== last[0]) return false;
        }
        return true;
      };
      await waitFor('replay applied', offsetsAtEnd);
      await runner.stop();
      assert.deepEqual(await kinds(), ['failed', 'held'], 'dead letters written twice');
      const { rows } = await pgCtx.pool.query<{ id: string }>(
        `SELECT id FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo ORDER BY id`,
      );
      assert.deepEqual(
        rows.map((r) => r.id),
        ['after', 'before'],
      );
    } finally {
      await capture.close();
      await redisCtx.cleanup();
      await pgCtx.cleanup();
    }
  });
});
