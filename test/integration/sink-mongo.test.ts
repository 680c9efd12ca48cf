import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { type Document, MongoServerSelectionError } from 'mongodb';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import type { EntityTarget, PartitionBatch, SinkEvent } from '../../runtime/sink/sink.ts';
import { MongoConstraintError } from '../../services/sink-mongo/src/mongo-constraint-error.ts';
import { MongoMappingError } from '../../services/sink-mongo/src/mongo-mapping-error.ts';
import { MongoSink, type MongoSinkOptions } from '../../services/sink-mongo/src/mongo-sink.ts';
import { encodeVersion } from '../../services/sink-mongo/src/mongo-version.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { schemaFile } from '../support/capture-fixtures.ts';

function registered(entity: string, id: number): RegisteredSchema {
  const schema = JSON.stringify(schemaFile(entity));
  return { id, entity, version: 1, fingerprint: '', schema, type: parseSchema(schema, entity) };
}

const TODO: EntityTarget = { entity: 'todo', schema: registered('todo', 1), keyField: 'id' };
const USER: EntityTarget = { entity: 'user', schema: registered('user', 2), keyField: 'id' };

/** The test server's URL pointing at the test's own database. */

const CAPTURED_AT = Date.UTC(2024, 0, 1);

function upsert(id: string, key: string, fields: Record<string, unknown> = {}): SinkEvent {
  const record = {
    id: key,
    name: `todo ${key} @${id}`,
    description: null,
    done: false,
    created_at: '2024-01-02T03:04:05.678Z',
    updated_at: null,
    ...fields,
  };
  return { id, op: 'upsert', entity: 'todo', key, record, capturedAt: CAPTURED_AT };
}

function remove(id: string, key: string): SinkEvent {
  return { id, op: 'delete', entity: 'todo', key, record: undefined, capturedAt: CAPTURED_AT };
}

function batch(events: SinkEvent[], partition = 0, offset = events.at(-1)!.id): PartitionBatch {
  return { entity: events[0]?.entity ?? 'todo', partition, events, offset };
}

/** The document the sink must hold after `event` was the last one of its key. */
function expectedDocument(event: SinkEvent): Document {
  if (event.op === 'delete') {
    return {
      _id: event.key,
      _v: encodeVersion(event.id),
      _deleted: true,
      _deletedAt: new Date(event.capturedAt),
    };
  }
  const r = event.record!;
  const date = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null);
  return {
    _id: event.key,
    _v: encodeVersion(event.id),
    _deleted: false,
    name: r.name,
    description: r.description,
    done: r.done,
    created_at: date(r.created_at),
    updated_at: date(r.updated_at),
  };
}

function expectedState(events: readonly SinkEvent[]): Document[] {
  const last = new Map<string, SinkEvent>();
  for (const event of events) last.set(event.key, event);
  return [...last.values()]
    .map(expectedDocument)
    .sort((a, b) => String(a._id).localeCompare(String(b._id)));
}

async function stored(t: TestMongo, collection = 'todo'): Promise<Document[]> {
  const docs = await t.db.collection(collection).find().toArray();
  return docs.sort((a, b) => String(a._id).localeCompare(String(b._id)));
}

async function storedVersions(t: TestMongo): Promise<Map<string, string>> {
  return new Map((await stored(t)).map((d) => [String(d._id), String(d._v)]));
}

/**
 * Runs `body` with a fresh database and a connected sink whose targets are ensured. Made inside
 * each test, not in a hook: Node 20 reports a failed hook as cancelled tests, not failed ones.
 */
async function withSink(
  options: Partial<MongoSinkOptions>,
  body: (sink: MongoSink, t: TestMongo) => Promise<void>,
  targets: EntityTarget[] = [TODO],
): Promise<void> {
  const t = await createTestMongo('sink_mongo');
  const sink = new MongoSink({
    url: t.url,
    serverSelectionTimeoutMS: 3_000,
    ...options,
  });
  try {
    await sink.connect();
    await sink.ensureTargets(targets);
    await body(sink, t);
  } finally {
    await sink.close();
    await t.cleanup();
  }
}

/** Small seeded generator, so a failing stream can be replayed exactly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Splits events into partition batches of at most `size`, one batch per partition per call. */
function rounds(
  events: readonly SinkEvent[],
  partitionOf: (e: SinkEvent) => number,
  size: number,
): PartitionBatch[][] {
  const byPartition = new Map<number, SinkEvent[]>();
  for (const event of events) {
    const p = partitionOf(event);
    byPartition.set(p, [...(byPartition.get(p) ?? []), event]);
  }
  const calls: PartitionBatch[][] = [];
  for (let i = 0; ; i += size) {
    const call = [...byPartition]
      .filter(([, list]) => i < list.length)
      .map(([p, list]) => batch(list.slice(i, i + size), p));
    if (call.length === 0) return calls;
    calls.push(call);
  }
}

describe('mongo sink', { timeout: 120_000 }, () => {
  test('upserts and deletes land as documents and tombstones', async () => {
    await withSink({}, async (sink, t) => {
      const events = [
        upsert('1-0', 'a', { description: 'first', updated_at: '2024-01-03T00:00:00.000Z' }),
        upsert('1-1', 'b', { done: true }),
        upsert('2-0', 'c'),
        remove('3-0', 'c'),
        remove('3-1', 'never-seen'),
      ];
      await sink.apply([batch(events)]);
      assert.deepEqual(await stored(t), [
        {
          _id: 'a',
          _v: '00000000000000000001-00000000000000000000',
          _deleted: false,
          name: 'todo a @1-0',
          description: 'first',
          done: false,
          created_at: new Date('2024-01-02T03:04:05.678Z'),
          updated_at: new Date('2024-01-03T00:00:00.000Z'),
        },
        expectedDocument(events[1]!),
        { _id: 'c', _v: encodeVersion('3-0'), _deleted: true, _deletedAt: new Date(CAPTURED_AT) },
        {
          _id: 'never-seen',
          _v: encodeVersion('3-1'),
          _deleted: true,
          _deletedAt: new Date(CAPTURED_AT),
        },
      ]);
      assert.equal(await t.db.collection('todo').countDocuments({ _deleted: false }), 2);
    });
  });

  test('a batch applied twice leaves the same state', async () => {
    await withSink({}, async (sink, t) => {
      const events = [
        upsert('5-0', 'a'),
        upsert('5-1', 'b'),
        remove('6-0', 'a'),
        upsert('7-0', 'b', { done: true }),
      ];
      await sink.apply([batch(events)]);
      const first = await stored(t);
      await sink.apply([batch(events)]);
      assert.deepEqual(await stored(t), first);
      assert.deepEqual(first, expectedState(events));
    });
  });

  test('an older version never overwrites a newer one', async () => {
    await withSink({}, async (sink, t) => {
      await sink.apply([batch([upsert('10-0', 'a', { name: 'new' })])]);
      // "9-5" sorts after "10-0" as plain text: the stored version must compare numerically.
      await sink.apply([batch([upsert('9-5', 'a', { name: 'old' })])]);
      const [doc] = await stored(t);
      assert.equal(doc?.name, 'new');
      assert.equal(doc?._v, encodeVersion('10-0'));
      await sink.apply([batch([upsert('10-1', 'a', { name: 'newer' })])]);
      assert.equal((await stored(t))[0]?.name, 'newer');
    });
  });

  test('a delete followed by a replayed older upsert stays deleted', async () => {
    await withSink({}, async (sink, t) => {
      const create = upsert('100-0', 'a');
      await sink.apply([batch([create, remove('101-0', 'a')])]);
      await sink.apply([batch([create])]);
      assert.deepEqual(await stored(t), [
        { _id: 'a', _v: encodeVersion('101-0'), _deleted: true, _deletedAt: new Date(CAPTURED_AT) },
      ]);
      // A newer upsert brings the key back, without a trace of the tombstone.
      await sink.apply([batch([upsert('102-0', 'a', { name: 'back' })])]);
      assert.deepEqual(await stored(t), [expectedDocument(upsert('102-0', 'a', { name: 'back' }))]);
    });
  });

  test('a replayed older delete does not remove a newer document', async () => {
    await withSink({}, async (sink, t) => {
      const events = [
        upsert('1-0', 'a'),
        remove('2-0', 'a'),
        upsert('3-0', 'a', { name: 'again' }),
      ];
      await sink.apply([batch(events)]);
      await sink.apply([batch(events.slice(0, 2))]);
      assert.deepEqual(await stored(t), [expectedDocument(events[2]!)]);
    });
  });

  test('replaying every suffix of a stream converges to the same state', async () => {
    await withSink({}, async (sink, t) => {
      const next = random(20240101);
      const keys = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      const partitionOf = (e: SinkEvent): number => Number(e.key.slice(1)) % 3;
      // Ids start just under a power of ten, so that their text order and numeric order differ.
      let ms = 9_999_999_950;
      let seq = 0;
      const events: SinkEvent[] = [];
      for (let i = 0; i < 200; i++) {
        if (next() < 0.6) {
          ms += 1 + Math.floor(next() * 3);
          seq = 0;
        } else {
          seq++;
        }
        const key = keys[Math.floor(next() * keys.length)]!;
        const id = `${ms}-${seq}`;
        events.push(next() < 0.2 ? remove(id, key) : upsert(id, key, { done: next() < 0.5 }));
      }
      const expected = expectedState(events);
      assert.ok(
        expected.some((d) => d._deleted === true) && expected.some((d) => d._deleted === false),
      );

      const todo = t.db.collection('todo');
      for (let from = 0; from < events.length; from++) {
        // The crash model: the data got as far as `upTo`, the offset only to `from`.
        const upTo = from + Math.floor(next() * (events.length - from + 1));
        await todo.deleteMany({});
        for (const call of rounds(
          events.slice(0, upTo),
          partitionOf,
          1 + Math.floor(next() * 20),
        )) {
          await sink.apply(call);
        }
        // No document may go back to an older version on the way, not only at the end.
        let versions = await storedVersions(t);
        for (const call of rounds(events.slice(from), partitionOf, 1 + Math.floor(next() * 20))) {
          await sink.apply(call);
          const now = await storedVersions(t);
          for (const [key, version] of versions) {
            assert.ok(
              now.get(key)! >= version,
              `${key} went back from ${version} to ${now.get(key)}`,
            );
          }
          versions = now;
        }
        assert.deepEqual(
          await stored(t),
          expected,
          `replay from event ${from} after applying ${upTo}`,
        );
      }
    });
  });

  test('offsets move forward only and readOffsets returns those of this sink', async () => {
    await withSink({}, async (sink, t) => {
      assert.deepEqual(await sink.readOffsets(), new Map());
      await sink.apply([batch([upsert('9-0', 'a')], 0), batch([], 1, '4-0')]);
      assert.deepEqual(
        await sink.readOffsets(),
        new Map([
          ['todo/0', '9-0'],
          ['todo/1', '4-0'],
        ]),
      );

      // Older offsets (a replay) do not move them back; "10-0" must count as newer than "9-0".
      await sink.apply([batch([upsert('8-0', 'b')], 0), batch([], 1, '3-7')]);
      assert.deepEqual(
        await sink.readOffsets(),
        new Map([
          ['todo/0', '9-0'],
          ['todo/1', '4-0'],
        ]),
      );
      await sink.apply([batch([upsert('10-0', 'b')], 0)]);
      assert.deepEqual(
        await sink.readOffsets(),
        new Map([
          ['todo/0', '10-0'],
          ['todo/1', '4-0'],
        ]),
      );

      const other = new MongoSink({
        url: t.url,
        name: 'mongo-b',
        serverSelectionTimeoutMS: 3_000,
      });
      try {
        await other.ensureTargets([TODO]);
        await other.apply([batch([], 0, '1-0')]);
        assert.deepEqual(await other.readOffsets(), new Map([['todo/0', '1-0']]));
        assert.deepEqual(
          await sink.readOffsets(),
          new Map([
            ['todo/0', '10-0'],
            ['todo/1', '4-0'],
          ]),
        );
      } finally {
        await other.close();
      }
      const documents = await t.db.collection('cdc_offsets').find({ sink: 'mongo' }).toArray();
      assert.deepEqual(documents.map((d) => [d._id, d.offset]).sort(), [
        ['mongo/todo/0', '10-0'],
        ['mongo/todo/1', '4-0'],
      ]);
    });
  });

  test('a configured unique index is created and a violating event fails permanently', async () => {
    const options = {
      collections: { todo: { uniqueIndexes: [{ fields: ['name'], name: 'todo_name_unique' }] } },
    };
    await withSink(options, async (sink, t) => {
      const todo = t.db.collection<{ _id: string; name?: string }>('todo');
      const index = (await todo.indexes()).find((i) => i.name === 'todo_name_unique');
      assert.deepEqual(index?.key, { name: 1 });
      assert.equal(index?.unique, true);
      // Ensuring again (a restart, a newer schema) is harmless.
      await sink.ensureTargets([TODO]);

      const first = [upsert('1-0', 'a', { name: 'x' }), upsert('1-1', 'b', { name: 'y' })];
      await sink.apply([batch(first)]);
      // A replay hits the guard, not the index: no violation.
      await sink.apply([batch(first)]);

      const error = await sink
        .apply([batch([upsert('2-0', 'c', { name: 'x' }), upsert('2-1', 'd', { name: 'z' })])])
        .then(
          () => assert.fail('apply should have failed'),
          (err: unknown) => err,
        );
      assert.ok(error instanceof MongoConstraintError, String(error));
      assert.deepEqual(error.keys, ['c']);
      assert.equal(sink.isTransient(error), false);
      // The other write of the bulk went through; the offset did not move.
      assert.equal((await todo.findOne({ _id: 'd' }))?.name, 'z');
      assert.equal(await todo.findOne({ _id: 'c' }), null);
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '1-1']]));

      // Tombstones hold no indexed field, so several of them never collide.
      await sink.apply([batch([remove('3-0', 'a'), remove('3-1', 'b')])]);
      await sink.apply([batch([upsert('4-0', 'c', { name: 'x' })])]);
      assert.equal((await todo.findOne({ _id: 'c' }))?.name, 'x');
    });
  });

  test('a batch split into concurrent bulk writes replays harmlessly and names the one key that breaks an index', async () => {
    const options = {
      writeConcurrency: 4,
      collections: { todo: { uniqueIndexes: [{ fields: ['name'] }] } },
    };
    await withSink(options, async (sink, t) => {
      // 1000 keys: four bulk writes of 250, each with its own write error indexes.
      const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
      const first = keys.map((key, i) => upsert(`10-${i}`, key, { name: `n-${key}` }));
      await sink.apply([batch(first)]);
      // The same batch again, then an older one: every write misses its guard (E11000 in every
      // chunk), and none of those is a violation.
      await sink.apply([batch(first)]);
      await sink.apply([
        batch(keys.map((key, i) => upsert(`9-${i}`, key, { name: `old-${key}` }))),
      ]);
      assert.deepEqual(await stored(t), expectedState(first));

      // Newer versions of every key, where the key in the third chunk takes a name another
      // document holds.
      const bad = keys[600]!;
      const second = keys.map((key, i) =>
        upsert(`11-${i}`, key, { name: key === bad ? `n-${keys[0]}-taken` : `m-${key}` }),
      );
      second[0] = upsert('11-0', keys[0]!, { name: `n-${keys[0]}-taken` });
      const error = await sink.apply([batch(second, 0, '11-999')]).then(
        () => assert.fail('apply should have failed'),
        (err: unknown) => err,
      );
      assert.ok(error instanceof MongoConstraintError, String(error));
      // Chunks run at once, so which of the two colliding writes lost depends on their timing;
      // exactly one did, and everything else is written.
      assert.equal(error.keys.length, 1);
      assert.ok([bad, keys[0]].includes(error.keys[0] as string), String(error.keys));
      const loser = error.keys[0] as string;
      const expected = expectedState(second.filter((e) => e.key !== loser));
      const held = (await stored(t)).filter((d) => d._id !== loser);
      assert.deepEqual(held, expected);
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '10-999']]));
    });
  });

  test('a violation in the first bulk write of a split batch fails the apply only once every other bulk write is done', async () => {
    const options = {
      writeConcurrency: 4,
      collections: { todo: { uniqueIndexes: [{ fields: ['name'] }] } },
    };
    await withSink(options, async (sink, t) => {
      const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
      const first = keys.map((key, i) => upsert(`10-${i}`, key, { name: `n-${key}` }));
      await sink.apply([batch(first)]);

      // Every key but the first again, newer; the sixth write (in the first, short bulk write,
      // sent while the others are still being built) takes the name the first key keeps.
      const bad = keys[5]!;
      const second = keys
        .slice(1)
        .map((key, i) =>
          upsert(`11-${i}`, key, { name: key === bad ? `n-${keys[0]}` : `m-${key}` }),
        );
      const error = await sink.apply([batch(second)]).then(
        () => assert.fail('apply should have failed'),
        (err: unknown) => err,
      );
      assert.ok(error instanceof MongoConstraintError, String(error));
      assert.deepEqual(error.keys, [bad]);
      // Read as soon as apply has failed: no bulk write of the batch is still running, every
      // other write is in, the offset did not move.
      const expected = expectedState([
        ...first.filter((e) => e.key === keys[0] || e.key === bad),
        ...second.filter((e) => e.key !== bad),
      ]);
      assert.deepEqual(await stored(t), expected);
      assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '10-999']]));
    });
  });

  test('collections and field names follow the configuration; numeric keys and dates keep their types', async () => {
    const options = {
      collections: {
        todo: { collection: 'todo_items', fields: { name: 'title' } },
        user: { collection: 'people' },
      },
    };
    await withSink(
      options,
      async (sink, t) => {
        await sink.apply([batch([upsert('1-0', 'a', { name: 'Write tests' })])]);
        const todo = await t.db.collection('todo_items').findOne({ _id: 'a' } as Document);
        assert.equal(todo?.title, 'Write tests');
        assert.equal('name' in (todo ?? {}), false);
        assert.equal('id' in (todo ?? {}), false);

        const user = {
          id: 42,
          username: 'ada',
          email: 'ada@example.com',
          password_hash: 'x',
          first_name: 'Ada',
          last_name: null,
          date_of_birth: '1815-12-10',
          created_at: '2024-05-06T07:08:09.010Z',
          updated_at: '2024-05-06T07:08:09.010Z',
        };
        const events: SinkEvent[] = [
          {
            id: '1-0',
            op: 'upsert',
            entity: 'user',
            key: '42',
            record: user,
            capturedAt: CAPTURED_AT,
          },
          {
            id: '1-1',
            op: 'upsert',
            entity: 'user',
            key: '43',
            record: { ...user, id: 43 },
            capturedAt: CAPTURED_AT,
          },
          {
            id: '2-0',
            op: 'delete',
            entity: 'user',
            key: '43',
            record: undefined,
            capturedAt: CAPTURED_AT,
          },
        ];
        await sink.apply([batch(events)]);
        const people = await t.db.collection('people').find().sort({ _id: 1 }).toArray();
        assert.deepEqual(people[0], {
          _id: 42,
          _v: encodeVersion('1-0'),
          _deleted: false,
          username: 'ada',
          email: 'ada@example.com',
          password_hash: 'x',
          first_name: 'Ada',
          last_name: null,
          date_of_birth: new Date(Date.UTC(1815, 11, 10)),
          created_at: new Date('2024-05-06T07:08:09.010Z'),
          updated_at: new Date('2024-05-06T07:08:09.010Z'),
        });
        assert.equal(people[1]?._id, 43);
        assert.equal(people[1]?._deleted, true);
        assert.equal(await t.db.collection('todo').countDocuments(), 0);
      },
      [TODO, USER],
    );
  });

  test('an event that cannot be mapped fails permanently before anything is written', async () => {
    await withSink({}, async (sink, t) => {
      const error = await sink
        .apply([batch([upsert('1-0', 'a'), upsert('1-1', 'b', { created_at: 'yesterday' })])])
        .then(
          () => assert.fail('apply should have failed'),
          (err: unknown) => err,
        );
      assert.ok(error instanceof MongoMappingError, String(error));
      assert.equal(error.path, 'created_at');
      assert.equal(sink.isTransient(error), false);
      assert.equal(await t.db.collection('todo').countDocuments(), 0);
      assert.deepEqual(await sink.readOffsets(), new Map());
    });
  });

  test('a configuration that does not fit the schema is refused by ensureTargets', async () => {
    const t = await createTestMongo('sink_mongo');
    const url = t.url;
    const unknownField = new MongoSink({ url, collections: { todo: { fields: { title: 'x' } } } });
    const sharedCollection = new MongoSink({ url, collections: { user: { collection: 'todo' } } });
    const unknownIndexField = new MongoSink({
      url,
      collections: { todo: { uniqueIndexes: [{ fields: ['title'] }] } },
    });
    try {
      await assert.rejects(unknownField.ensureTargets([TODO]), ConfigError);
      await assert.rejects(sharedCollection.ensureTargets([TODO, USER]), ConfigError);
      await assert.rejects(unknownIndexField.ensureTargets([TODO]), ConfigError);
    } finally {
      await Promise.all([
        unknownField.close(),
        sharedCollection.close(),
        unknownIndexField.close(),
      ]);
      await t.cleanup();
    }
  });

  test('transactions are refused on a standalone server and used on a replica set', async () => {
    const t = await createTestMongo('sink_mongo');
    const sink = new MongoSink({
      url: t.url,
      transactions: true,
      serverSelectionTimeoutMS: 3_000,
    });
    try {
      const hello = await t.client.db('admin').command({ isMaster: 1 });
      if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') {
        await sink.connect();
        await sink.ensureTargets([TODO]);
        const events = [upsert('1-0', 'a'), remove('2-0', 'b')];
        await sink.apply([batch(events)]);
        await sink.apply([batch(events)]);
        assert.deepEqual(await stored(t), expectedState(events));
        assert.deepEqual(await sink.readOffsets(), new Map([['todo/0', '2-0']]));
      } else {
        const error = await sink.connect().then(
          () => assert.fail('connect should have failed'),
          (err: unknown) => err,
        );
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(sink.isTransient(error), false);
      }
    } finally {
      await sink.close();
      await t.cleanup();
    }
  });

  test('an unreachable server gives a transient error', async () => {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const sink = new MongoSink({
      url: `mongodb://127.0.0.1:${port}/cdc`,
      serverSelectionTimeoutMS: 300,
    });
    try {
      const error = await sink.connect().then(
        () => assert.fail('connect should have failed'),
        (err: unknown) => err,
      );
      assert.ok(error instanceof MongoServerSelectionError, String(error));
      assert.equal(sink.isTransient(error), true);
      // Not MongoTopologyClosedError, which no retry would cure: every call connects again.
      for (const call of [
        () => sink.ensureTargets([TODO]),
        () => sink.readOffsets(),
        () => sink.apply([batch([], 0, '1-0')]),
      ]) {
        const later = await call().then(
          () => assert.fail('the call should have failed'),
          (err: unknown) => err,
        );
        assert.ok(later instanceof MongoServerSelectionError, String(later));
        assert.equal(sink.isTransient(later), true);
      }
    } finally {
      await sink.close();
    }
  });
});
