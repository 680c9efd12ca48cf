import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Document } from 'mongodb';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { encodeEnvelope } from '../../runtime/envelope.ts';
import { partitionOf } from '../../runtime/partition.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import { offsetKey } from '../../runtime/sink/sink.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { MongoSink, type MongoSinkOptions } from '../../services/sink-mongo/src/mongo-sink.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestRedis, type TestRedis, testRedisOptions } from '../helpers/redis.ts';
import { createTestCapture, schemaFile } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { expectedState } from '../support/expected-state.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const P = 3;

/** The test server's URL pointing at the test's own database. */

describe('MongoDB sink end to end (real Redis and Mongo-wire server)', { timeout: 120_000 }, () => {
  let redisCtx: TestRedis;
  let mongoCtx: TestMongo;
  let prefix: string;
  let capture: Capture;
  const runners: SinkRunner[] = [];
  const sinkOptions: Partial<MongoSinkOptions> = {
    collections: { user: { uniqueIndexes: [{ fields: ['email'], name: 'user_email_unique' }] } },
  };

  const startRunner = async (consumer: string): Promise<SinkRunner> => {
    const runner = await startTestRunner(
      new MongoSink({
        url: mongoCtx.url,
        serverSelectionTimeoutMS: 3_000,
        ...sinkOptions,
      }),
      prefix,
      consumer,
    );
    runners.push(runner);
    return runner;
  };

  const documents = async (collection: string): Promise<Map<string, Document>> => {
    const all = await mongoCtx.db.collection(collection).find().toArray();
    return new Map(all.map((d) => [String(d._id), d]));
  };

  const appliedAll = (entity: string): Promise<boolean> =>
    sinkCaughtUp(redisCtx.redis, capture.keys, entity, P, 'mongo');

  before(async () => {
    redisCtx = await createTestRedis('sinkmongo');
    prefix = redisCtx.capturePrefix;
    mongoCtx = await createTestMongo('sinkmongo');
    capture = await createTestCapture(prefix, ['todo', 'user'], P);
  });

  after(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    await capture?.close();
    await redisCtx?.cleanup();
    await mongoCtx?.cleanup();
  });

  test('captured upserts and deletes land as documents and tombstones; offsets match the streams', async () => {
    const runner = await startRunner('a');
    for (let i = 0; i < 40; i++) {
      await capture.upsert('todo', {
        id: `t${i}`,
        name: `todo ${i}`,
        done: i % 2 === 0,
        created_at: '2024-01-02T03:04:05.678Z',
      });
    }
    for (let i = 0; i < 10; i++) await capture.delete('todo', `t${i}`);
    await capture.upsert('user', {
      id: 1,
      username: 'john',
      email: 'john@example.com',
      password_hash: 'h',
      first_name: 'John',
      last_name: null,
      date_of_birth: '1990-01-01',
      created_at: '2023-04-20T00:00:00Z',
      updated_at: '2023-04-20T00:00:00Z',
    });
    await waitFor(
      'todo and user applied',
      async () => (await appliedAll('todo')) && (await appliedAll('user')),
    );

    const todos = await documents('todo');
    const expected = await expectedState(redisCtx.redis, capture.keys, capture.registry, 'todo', P);
    assert.equal([...todos.values()].filter((d) => d._deleted === false).length, expected.size);
    for (const [key, record] of expected) {
      const doc = todos.get(key);
      assert.equal(doc?.name, record.name, key);
      assert.equal(doc?.done, record.done, key);
      assert.deepEqual(doc?.created_at, new Date('2024-01-02T03:04:05.678Z'));
    }
    for (let i = 0; i < 10; i++) assert.equal(todos.get(`t${i}`)?._deleted, true);

    const user = (await documents('user')).get('1');
    assert.equal(user?._id, 1);
    assert.deepEqual(user?.date_of_birth, new Date('1990-01-01T00:00:00Z'));

    const sink = new MongoSink({ url: mongoCtx.url });
    try {
      const offsets = await sink.readOffsets();
      for (let p = 0; p < P; p++) {
        const last = (
          await redisCtx.redis.xrevrange(capture.keys.stream('todo', p), '+', '-', 'COUNT', 1)
        )[0]?.[0];
        assert.equal(offsets.get(offsetKey('todo', p)), last);
      }
    } finally {
      await sink.close();
    }
    await runner.stop();
  });

  test('a unique-index violation is dead-lettered, other keys flow, and a re-drive applies it once fixed', async () => {
    const runner = await startRunner('b');
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'mongo');
    const user = (id: number, email: string) => ({
      id,
      username: `u${id}`,
      email,
      password_hash: 'h',
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    });
    await capture.upsert('user', user(2, 'taken@example.com'));
    await waitFor('user 2 applied', () => appliedAll('user'));
    await capture.upsert('user', user(3, 'taken@example.com'));
    await waitFor(
      'user 3 dead-lettered',
      async () => (await letters.list({ key: '3' })).length === 1,
    );
    for (let i = 10; i < 20; i++) await capture.upsert('user', user(i, `u${i}@example.com`));
    await waitFor('user applied', () => appliedAll('user'));

    const users = await documents('user');
    assert.equal(users.get('3'), undefined);
    for (let i = 10; i < 20; i++) assert.equal(users.get(String(i))?.email, `u${i}@example.com`);
    const [letter] = await letters.list({ key: '3' });
    assert.equal(letter?.kind, 'failed');

    // Free the address, then re-drive: the event applies and the key is released.
    await capture.delete('user', '2');
    await waitFor(
      'user 2 deleted',
      async () => (await documents('user')).get('2')?._deleted === true,
    );
    assert.equal(await letters.requestRedrive('user', partitionOf('3', P), '3'), true);
    await waitFor(
      'user 3 re-driven',
      async () => (await documents('user')).get('3')?.email === 'taken@example.com',
    );
    // The runner applies the re-driven events, then removes their dead letters.
    await waitFor(
      'dead letters removed',
      async () => (await letters.list({ key: '3' })).length === 0,
    );
    await runner.stop();
  });

  test('a corrupt payload and a date the sink cannot store are dead-lettered with their reasons; the rest lands', async () => {
    const runner = await startRunner('c');
    const letters = new DeadLetters(redisCtx.redis, capture.keys, 'mongo');
    const user = (id: number, extra: Record<string, unknown> = {}) => ({
      id,
      username: `u${id}`,
      email: `u${id}@example.org`,
      password_hash: 'h',
      date_of_birth: '1990-05-17',
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
      ...extra,
    });
    // Year 10000: a valid Avro date (a day count), but no ISO date names it.
    await capture.upsert('user', user(40, { date_of_birth: 2_932_897 }));
    // An upsert whose payload is cut short, added as capture would add it.
    const schema = capture.schemaOf('user');
    const payload = schema.type.toBuffer(user(41));
    await redisCtx.redis.xadd(
      capture.keys.stream('user', partitionOf('41', P)),
      '*',
      ...encodeEnvelope({
        op: 'upsert',
        entity: 'user',
        key: '41',
        schemaId: schema.id,
        payload: payload.subarray(0, payload.length - 4),
        capturedAt: Date.now(),
      }),
    );
    for (let i = 42; i < 50; i++) await capture.upsert('user', user(i));
    await waitFor('user applied', () => appliedAll('user'));
    await waitFor(
      'both dead-lettered',
      async () =>
        (await letters.list({ key: '40' })).length + (await letters.list({ key: '41' })).length ===
        2,
    );

    const [dateLetter] = await letters.list({ key: '40' });
    assert.match(dateLetter!.error, /^MongoMappingError: .*date_of_birth: expected a date/);
    const [payloadLetter] = await letters.list({ key: '41' });
    assert.match(payloadLetter!.error, /^PayloadError: payload of user "41"/);
    const users = await documents('user');
    assert.equal(users.get('40'), undefined);
    assert.equal(users.get('41'), undefined);
    for (let i = 42; i < 50; i++) {
      assert.deepEqual(users.get(String(i))?.date_of_birth, new Date(Date.UTC(1990, 4, 17)));
      assert.deepEqual(users.get(String(i))?.created_at, new Date('2024-01-01T00:00:00Z'));
    }
    await runner.stop();
  });

  test('schema v2 adds a field: new documents have it, old ones are left as they are', async () => {
    const v1 = schemaFile('todo') as unknown as { fields: object[] };
    const v2 = {
      ...v1,
      fields: [...v1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
    } as unknown as AvroSchema;
    const runner = await startRunner('c');
    const writer = await createCapture({
      redis: testRedisOptions(),
      prefix,
      entities: { todo: { schema: v2, partitions: P } },
    });
    try {
      await writer.upsert('todo', { id: 'v2', name: 'new', priority: 7 });
      await waitFor('v2 applied', async () => (await documents('todo')).get('v2'));
    } finally {
      await writer.close();
    }
    const all = await documents('todo');
    assert.equal(all.get('v2')?.priority, 7);
    assert.equal('priority' in (all.get('t20') ?? {}), false);
    await runner.stop();
  });
});
