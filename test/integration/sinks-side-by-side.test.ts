import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { Sink } from '../../runtime/sink/sink.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis, testRedisOptions } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { expectedState } from '../support/expected-state.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

describe('PostgreSQL and MongoDB sinks side by side on the same streams', {
  timeout: 120_000,
}, () => {
  let redisCtx: TestRedis;
  let mongoCtx: TestMongo;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;
  const runners: SinkRunner[] = [];

  const run = async (sink: Sink) => {
    const runner = await startTestRunner(sink, prefix);
    runners.push(runner);
  };

  const caughtUp = (sink: string) => sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, sink);

  before(async () => {
    redisCtx = await createTestRedis('sidebyside');
    prefix = redisCtx.capturePrefix;
    mongoCtx = await createTestMongo('sidebyside');
    pgCtx = await createTestPostgres('sidebyside');
    capture = await createTestCapture(prefix, ['todo'], P);
  });

  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await capture.close();
    await redisCtx.cleanup();
    await mongoCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('each sink has its own group and offsets, and both equal the expected state', async () => {
    const mongoUrl = mongoCtx.url;
    await run(new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }));
    await run(new MongoSink({ url: mongoUrl }));
    const writes = [];
    for (let round = 0; round < 4; round++)
      for (let k = 0; k < 150; k++)
        writes.push({ op: 'upsert' as const, record: { id: `k${k}`, name: `r${round}` } });
    for (let k = 0; k < 150; k += 5) writes.push({ op: 'delete' as const, key: `k${k}` });
    await capture.writeMany('todo', writes);
    await waitFor(
      'both sinks caught up',
      async () => (await caughtUp('postgres')) && (await caughtUp('mongo')),
      60_000,
    );

    const groups = (await redisCtx.redis.xinfo('GROUPS', capture.keys.stream('todo', 0))) as Array<
      Array<string | number>
    >;
    assert.deepEqual(groups.map((g) => String(g[g.indexOf('name') + 1])).sort(), [
      'mongo',
      'postgres',
    ]);

    const expected = await expectedState(redisCtx.redis, capture.keys, capture.registry, 'todo', P);
    const { rows } = await pgCtx.pool.query<{ id: string; name: string }>(
      `SELECT id, name FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo`,
    );
    assert.deepEqual(
      new Map(rows.map((r) => [r.id, r.name])),
      new Map([...expected].map(([k, r]) => [k, r.name])),
    );
    const docs = await mongoCtx.db.collection('todo').find({ _deleted: false }).toArray();
    assert.deepEqual(
      new Map(docs.map((d) => [String(d._id), d.name])),
      new Map([...expected].map(([k, r]) => [k, r.name])),
    );

    const { rows: pgOffsets } = await pgCtx.pool.query(
      `SELECT partition, stream_id FROM ${pg.escapeIdentifier(pgCtx.schema)}.cdc_offsets ORDER BY partition`,
    );
    const mongoOffsets = await mongoCtx.db.collection('cdc_offsets').find().toArray();
    assert.equal(pgOffsets.length, P);
    assert.equal(mongoOffsets.length, P);
  });

  test('concurrent patches of different fields of one key all survive in both sinks', async () => {
    await capture.upsert('todo', { id: 'patched', name: 'start', description: 'start' });
    const other = await createCapture({
      redis: testRedisOptions(),
      prefix,
      entities: { todo: { partitions: P } },
    });
    try {
      await Promise.all([
        (async () => {
          for (let i = 0; i < 25; i++)
            await capture.patch('todo', 'patched', { name: `name-${i}` });
        })(),
        (async () => {
          for (let i = 0; i < 25; i++)
            await other.patch('todo', 'patched', { description: `desc-${i}` });
        })(),
      ]);
    } finally {
      await other.close();
    }
    await waitFor(
      'both sinks caught up',
      async () => (await caughtUp('postgres')) && (await caughtUp('mongo')),
      60_000,
    );
    const { rows } = await pgCtx.pool.query(
      `SELECT name, description FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo WHERE id = 'patched'`,
    );
    assert.deepEqual(rows[0], { name: 'name-24', description: 'desc-24' });
    const doc = await mongoCtx.db.collection('todo').findOne({ _id: 'patched' as never });
    assert.equal(doc?.name, 'name-24');
    assert.equal(doc?.description, 'desc-24');
  });
});
