import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { runExampleProcess } from '../../examples/support/run-example.ts';
import { Keys } from '../../runtime/keys.ts';
import { partitionOf } from '../../runtime/partition.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';

/** The document the README shows, as the MongoDB sink stores it. */
interface TodoDocument {
  _id: string;
  _v: string;
  _deleted: boolean;
  name: string;
  description: string | null;
}

const RUN_TIMEOUT_MS = 120_000;
const CONFIG = new URL('../../examples/todos-write-behind/cdc.config.json', import.meta.url);

describe('example todos-write-behind (npm run example:todos)', () => {
  let redis: TestRedis;
  let mongo: TestMongo;
  let prefix: string;
  let partitions: number;
  let env: Record<string, string>;

  before(async () => {
    redis = await createTestRedis('example_todos');
    mongo = await createTestMongo('example_todos');
    prefix = redis.capturePrefix;
    const config = JSON.parse(await readFile(CONFIG, 'utf8')) as {
      entities: { todo: { partitions: number } };
    };
    partitions = config.entities.todo.partitions;
    // Its own key prefix and database, so parallel test files and a developer's own run of the
    // example never share data with this one.
    env = { EXAMPLE_PREFIX: prefix, EXAMPLE_MONGO_DB: mongo.dbName };
  });

  after(async () => {
    await redis?.cleanup();
    await mongo?.cleanup();
  });

  async function storedTodo(): Promise<TodoDocument | null> {
    return mongo.db.collection<TodoDocument>('todos').findOne({ _id: 'test_id' });
  }

  test('exits 0 and leaves test_id in the todos collection and the Redis cache, as the README shows', {
    timeout: RUN_TIMEOUT_MS + 30_000,
  }, async () => {
    const run = await runExampleProcess('todos-write-behind', env, RUN_TIMEOUT_MS);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /HTTP 200 \{"entity":"todo","key":"test_id",.*"mode":"behind"\}/);
    assert.match(run.output, /name: 'some todo',\n\s+description: 'some description'/);

    const document = await storedTodo();
    assert.ok(document, `no document test_id in ${mongo.dbName}.todos:\n${run.output}`);
    const { _v, ...rest } = document;
    assert.deepEqual(rest, {
      _id: 'test_id',
      _deleted: false,
      name: 'some todo',
      description: 'some description',
    });

    const cached = await redis.redis.hget(
      new Keys(prefix).cache('todo', partitionOf('test_id', partitions), 'test_id'),
      'd',
    );
    assert.deepEqual(JSON.parse(cached ?? 'null'), {
      id: 'test_id',
      name: 'some todo',
      description: 'some description',
    });
  });

  test('a second run gives the same result, written by a newer event', {
    timeout: RUN_TIMEOUT_MS + 30_000,
  }, async () => {
    const first = await storedTodo();
    assert.ok(first, 'the first run left no document');
    const run = await runExampleProcess('todos-write-behind', env, RUN_TIMEOUT_MS);
    assert.equal(run.code, 0, run.output);
    const second = await storedTodo();
    assert.ok(second);
    assert.ok(second._v > first._v, `version did not move: ${first._v} -> ${second._v}`);
    assert.deepEqual({ ...second, _v: first._v }, first);
    assert.equal(await mongo.db.collection('todos').countDocuments(), 1);
  });
});
