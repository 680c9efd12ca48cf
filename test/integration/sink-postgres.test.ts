import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import type { SinkRunnerOptions } from '../../runtime/sink/sink-runner-options.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createTestRedis } from '../helpers/redis.ts';
import { createTestCapture, schemaFile } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { expectedState } from '../support/expected-state.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 4;

describe('PostgreSQL sink end to end (real Redis and PostgreSQL)', () => {
  let redisCtx: Awaited<ReturnType<typeof createTestRedis>>;
  let pgCtx: Awaited<ReturnType<typeof createTestPostgres>>;
  let prefix: string;
  let capture: Capture;
  const runners: SinkRunner[] = [];

  const startRunner = async (
    consumer: string,
    extra: Partial<ConstructorParameters<typeof PostgresSink>[0]> = {},
    name = 'postgres',
    runnerOptions: Partial<SinkRunnerOptions> = {},
  ) => {
    const runner = await startTestRunner(
      new PostgresSink({ url: testEnv.postgresUrl, schema: pgCtx.schema, name, ...extra }),
      prefix,
      consumer,
      runnerOptions,
    );
    runners.push(runner);
    return runner;
  };

  const rows = async (table: string): Promise<Map<string, Record<string, unknown>>> => {
    const { rows: all } = await pgCtx.pool.query(
      `SELECT * FROM ${pg.escapeIdentifier(pgCtx.schema)}.${pg.escapeIdentifier(table)}`,
    );
    return new Map(all.map((r: Record<string, unknown>) => [String(r.id), r]));
  };

  const appliedAll = (entity: string, sink = 'postgres') =>
    sinkCaughtUp(redisCtx.redis, capture.keys, entity, P, sink);

  before(async () => {
    redisCtx = await createTestRedis('sinkpg');
    prefix = redisCtx.capturePrefix;
    pgCtx = await createTestPostgres('sinkpg');
    capture = await createTestCapture(prefix, ['todo', 'user'], P);
  });

  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await capture.close();
    await redisCtx.cleanup();
    await pgCtx.cleanup();
  });

  test('captured upserts and deletes land in tables derived from the schemas', async () => {
    const runner = await startRunner('a');
    for (let i = 0; i < 50; i++)
      await capture.upsert('todo', {
        id: `t${i}`,
        name: `todo ${i}`,
        done: i % 2 === 0,
        created_at: '2024-01-02T03:04:05.678Z',
      });
    for (let i = 0; i < 10; i++) await capture.delete('todo', `t${i}`);
    await capture.upsert('user', {
      id: 1,
      username: 'john',
      email: 'john@gmail.com',
      password_hash: 'h',
      first_name: 'John',
      last_name: 'Doe',
      date_of_birth: '1990-01-01',
      created_at: '2023-04-20T00:00:00Z',
      updated_at: '2023-04-20T00:00:00Z',
    });
    await waitFor(
      'todo and user applied',
      async () => (await appliedAll('todo')) && (await appliedAll('user')),
    );
    const todos = await rows('todo');
    const expected = await expectedState(redisCtx.redis, capture.keys, capture.registry, 'todo', P);
    assert.equal(todos.size, 40);
    for (const [key, record] of expected) {
      const row = todos.get(key);
      assert.equal(row?.name, record.name);
      assert.equal(row?.done, record.done);
      assert.equal((row!.created_at as Date).toISOString(), '2024-01-02T03:04:05.678Z');
    }
    const users = await rows('user');
    const { rows: typed } = await pgCtx.pool.query(
      `SELECT to_char(date_of_birth, 'YYYY-MM-DD') AS dob, pg_typeof(date_of_birth)::text AS t FROM ${pg.escapeIdentifier(pgCtx.schema)}."user"`,
    );
    assert.equal(users.get('1')?.username, 'john');
    assert.deepEqual(typed[0], { dob: '1990-01-01', t: 'date' });
    await runner.stop();
  });

  test('schema v2 adds a column, filled for new events and empty for old rows', async () => {
    const v1 = schemaFile('todo') as unknown as { fields: object[] };
    const v2 = {
      ...v1,
      fields: [...v1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
    } as unknown as AvroSchema;
    const runner = await startRunner('f');
    const writer = await createCapture({
      redis: { url: testEnv.redisUrl },
      prefix,
      entities: { todo: { schema: v2, partitions: P } },
    });
    await writer.upsert('todo', { id: 'v2', name: 'new', priority: 7 });
    await waitFor('v2 applied', async () => (await rows('todo')).get('v2'));
    await writer.close();
    const all = await rows('todo');
    assert.equal(all.get('v2')?.priority, 7);
    assert.equal(all.get('t10')?.priority, null);
    await runner.stop();
  });
});
