import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Capture } from '../../runtime/capture/capture.ts';
import { consumerGroups } from '../../runtime/consumer-groups.ts';
import { ReplayRequests } from '../../runtime/sink/replay-requests.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { postgresOffsetsBehind, sinkCaughtUp } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 2;

describe('cdc replay: a sink consumes its partitions again after its target lost writes', {
  timeout: 120_000,
}, () => {
  let redisCtx: TestRedis;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let mongoCtx: TestMongo;
  let prefix: string;
  let capture: Capture;
  const runners: SinkRunner[] = [];
  /** The time between the first round of writes and the second. */
  let between: number;
  /** What every sink must hold: the second round for k10..k19, the first for the others. */
  const expected = new Map(
    Array.from({ length: 20 }, (_, k) => [`k${k}`, k >= 10 ? 'second' : 'first']),
  );

  const cdc = (...args: string[]) => runCdc(prefix, ...args);
  const pgRows = async () =>
    new Map(
      (
        await pgCtx.pool.query<{ id: string; name: string }>(
          `SELECT id, name FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo`,
        )
      ).rows.map((r) => [r.id, r.name]),
    );
  const pgDelete = (...keys: string[]) =>
    pgCtx.pool.query(`DELETE FROM ${pg.escapeIdentifier(pgCtx.schema)}.todo WHERE id = ANY($1)`, [
      keys,
    ]);
  const mongoDocs = async () =>
    new Map(
      (await mongoCtx.db.collection('todo').find({ _deleted: false }).toArray()).map((d) => [
        String(d._id),
        d.name as string,
      ]),
    );
  /** The replay is over: request carried out, nothing left to read or pending. */
  const replayed = (sink: string) => async () => {
    if ((await redisCtx.redis.hlen(capture.keys.replayRequests(sink))) > 0) return false;
    for (let p = 0; p < P; p++) {
      const group = (await consumerGroups(redisCtx.redis, capture.keys.stream('todo', p))).find(
        (g) => g.name === sink,
      );
      if (group?.lag !== 0 || group.pending !== 0) return false;
    }
    return sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, sink);
  };

  before(async () => {
    redisCtx = await createTestRedis('replay');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('replay');
    mongoCtx = await createTestMongo('replay');
    capture = await createTestCapture(prefix, ['todo'], P);
    const mongoUrl = mongoCtx.url;
    for (const sink of [
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      new MongoSink({ url: mongoUrl }),
    ])
      runners.push(await startTestRunner(sink, prefix));
    for (let k = 0; k < 20; k++) await capture.upsert('todo', { id: `k${k}`, name: 'first' });
    await sleep(20);
    between = Date.now();
    await sleep(20);
    for (let k = 10; k < 20; k++) await capture.upsert('todo', { id: `k${k}`, name: 'second' });
    await waitFor(
      'both sinks caught up',
      async () =>
        (await sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'postgres')) &&
        (await sinkCaughtUp(redisCtx.redis, capture.keys, 'todo', P, 'mongo')),
    );
  });

  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
    await mongoCtx.cleanup();
  });

  test('a dry run counts the entries to read again and asks for nothing', async () => {
    const { code, out } = await cdc(
      '--json',
      'replay',
      '--sink',
      'postgres',
      '--from-start',
      '--dry-run',
    );
    assert.equal(code, 0, out);
    const rows = JSON.parse(out) as Array<{ partition: number; entries_to_read_again: number }>;
    assert.equal(rows.length, P);
    for (const row of rows)
      assert.equal(
        row.entries_to_read_again,
        await redisCtx.redis.xlen(capture.keys.stream('todo', row.partition)),
      );
    assert.equal(await redisCtx.redis.exists(capture.keys.replayRequests('postgres')), 0);
  });

  test('from the start: rows PostgreSQL lost come back, the others are unchanged', async () => {
    await pgDelete('k0', 'k1', 'k2', 'k3', 'k4', 'k15');
    // Behind the sink's back, with the version it wrote: a replay must not overwrite it.
    await pgCtx.pool.query(
      `UPDATE ${pg.escapeIdentifier(pgCtx.schema)}.todo SET name = 'kept' WHERE id = 'k7'`,
    );
    const { code, out } = await cdc('replay', '--sink', 'postgres', '--from-start');
    assert.equal(code, 0, out);
    await waitFor('replay done', replayed('postgres'));
    assert.deepEqual(await pgRows(), new Map([...expected, ['k7', 'kept']]));
    assert.deepEqual(
      await postgresOffsetsBehind(pgCtx.pool, pgCtx.schema, redisCtx.redis, capture.keys, 'todo'),
      [],
      'the offsets are back at the end',
    );
  });

  test('from a time: only events captured since then are applied again', async () => {
    // k1 was last written before that time, k12 after it.
    await pgDelete('k1', 'k12');
    const { code, out } = await cdc(
      'replay',
      '--sink',
      'postgres',
      '--from-time',
      new Date(between).toISOString(),
    );
    assert.equal(code, 0, out);
    await waitFor('replay done', replayed('postgres'));
    const rows = await pgRows();
    assert.equal(rows.get('k12'), 'second');
    assert.equal(rows.has('k1'), false, 'an event from before the replay point was applied');
    await pgCtx.pool.query(
      `INSERT INTO ${pg.escapeIdentifier(pgCtx.schema)}.todo (id, name, done, _cdc_ms, _cdc_seq) VALUES ('k1', 'first', false, 0, 0)`,
    );
  });

  test('the MongoDB sink replays the same way, and a replay of one sink leaves the other alone', async () => {
    await mongoCtx.db.collection('todo').deleteMany({ _id: { $in: ['k3', 'k11'] } as never });
    const pgBefore = await pgRows();
    const { code, out } = await cdc(
      'replay',
      '--sink',
      'mongo',
      '--entity',
      'todo',
      '--from-start',
    );
    assert.equal(code, 0, out);
    await waitFor('replay done', replayed('mongo'));
    assert.deepEqual(await mongoDocs(), expected);
    assert.deepEqual(await pgRows(), pgBefore);
  });

  test('a replay from beyond what a sink has applied skips nothing', async () => {
    const runner = runners[0]!;
    await runner.stop();
    // Written while the sink is stopped: a replay "from" the newest of them must not skip them.
    await capture.upsert('todo', { id: 'k5', name: 'while stopped' });
    await capture.upsert('todo', { id: 'k6', name: 'while stopped' });
    for (let p = 0; p < P; p++) {
      const [last] = await redisCtx.redis.xrevrange(
        capture.keys.stream('todo', p),
        '+',
        '-',
        'COUNT',
        1,
      );
      await new ReplayRequests(redisCtx.redis, capture.keys, 'postgres').request(
        'todo',
        p,
        last![0],
      );
    }
    runners[0] = await startTestRunner(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema }),
      prefix,
    );
    await waitFor('replay requests dealt with', replayed('postgres'));
    const rows = await pgRows();
    assert.equal(rows.get('k5'), 'while stopped');
    assert.equal(rows.get('k6'), 'while stopped');
    expected.set('k5', 'while stopped');
    expected.set('k6', 'while stopped');
  });

  test('a replay without a starting point, or of a sink that does not exist, is refused', async () => {
    assert.equal((await cdc('replay', '--sink', 'postgres')).code, 2);
    assert.equal((await cdc('replay', '--sink', 'postgres', '--from-time', 'yesterday')).code, 2);
    assert.equal(
      (await cdc('replay', '--sink', 'postgres', '--from-start', '--from-offset', '1-0')).code,
      2,
    );
    const missing = await cdc('replay', '--sink', 'nobody', '--from-start');
    assert.equal(missing.code, 1);
    assert.match(missing.out, /consumes no partition/);
    assert.equal(await redisCtx.redis.exists(capture.keys.replayRequests('nobody')), 0);
  });
});
