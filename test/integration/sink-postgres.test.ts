import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { testRedisOptions } from '../helpers/redis.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { expectedState } from '../support/expected-state.ts';
import {
  createPostgresSinkFixture,
  type PostgresSinkFixture,
} from '../support/postgres-sink-fixture.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 4;

describe('PostgreSQL sink end to end (real Redis and PostgreSQL)', () => {
  let f: PostgresSinkFixture;

  before(async () => {
    f = await createPostgresSinkFixture('sinkpg', ['todo', 'user'], P);
  });

  after(() => f.cleanup());

  test('captured upserts and deletes land in tables derived from the schemas', async () => {
    const runner = await f.startRunner('a');
    for (let i = 0; i < 50; i++)
      await f.capture.upsert('todo', {
        id: `t${i}`,
        name: `todo ${i}`,
        done: i % 2 === 0,
        created_at: '2024-01-02T03:04:05.678Z',
      });
    for (let i = 0; i < 10; i++) await f.capture.delete('todo', `t${i}`);
    await f.capture.upsert('user', {
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
      async () => (await f.appliedAll('todo')) && (await f.appliedAll('user')),
    );
    const todos = await f.rows('todo');
    const expected = await expectedState(
      f.redisCtx.redis,
      f.capture.keys,
      f.capture.registry,
      'todo',
      P,
    );
    assert.equal(todos.size, 40);
    for (const [key, record] of expected) {
      const row = todos.get(key);
      assert.equal(row?.name, record.name);
      assert.equal(row?.done, record.done);
      assert.equal((row!.created_at as Date).toISOString(), '2024-01-02T03:04:05.678Z');
    }
    const users = await f.rows('user');
    const { rows: typed } = await f.pgCtx.pool.query(
      `SELECT to_char(date_of_birth, 'YYYY-MM-DD') AS dob, pg_typeof(date_of_birth)::text AS t FROM ${pg.escapeIdentifier(f.pgCtx.schema)}."user"`,
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
    const runner = await f.startRunner('f');
    const writer = await createCapture({
      redis: testRedisOptions(),
      prefix: f.prefix,
      entities: { todo: { schema: v2, partitions: P } },
    });
    await writer.upsert('todo', { id: 'v2', name: 'new', priority: 7 });
    await waitFor('v2 applied', async () => (await f.rows('todo')).get('v2'));
    await writer.close();
    const all = await f.rows('todo');
    assert.equal(all.get('v2')?.priority, 7);
    assert.equal(all.get('t10')?.priority, null);
    await runner.stop();
  });
});
