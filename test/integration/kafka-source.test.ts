import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Message, Producer } from 'kafkajs';
import pg from 'pg';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import { EntityMetadataStore } from '../../runtime/capture/entity-metadata.ts';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { createTopicIfMissing } from '../../runtime/kafka/create-topic.ts';
import { encodeKafkaMessage } from '../../runtime/kafka/kafka-message.ts';
import { mirrorSchema } from '../../runtime/kafka/schema-mirror.ts';
import { Keys } from '../../runtime/keys.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import { SchemaRegistry } from '../../runtime/schema/schema-registry.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import type { Sink } from '../../runtime/sink/sink.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import type { KafkaSourceSettings } from '../../runtime/sink/source/sink-source-options.ts';
import { KafkaBridgeSink } from '../../services/bridge-kafka/src/kafka-bridge-sink.ts';
import { leaseOwnership } from '../../services/bridge-kafka/src/partition-ownership.ts';
import { MongoSink } from '../../services/sink-mongo/src/mongo-sink.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import {
  createTestKafka,
  KAFKA_BROKER_LINES,
  type KafkaBrokerLine,
  type TestKafka,
} from '../helpers/kafka.ts';
import { createTestMongo, type TestMongo } from '../helpers/mongo.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, deleteKeys, type TestRedis, testRedisOptions } from '../helpers/redis.ts';
import { createTestCapture, keysUnder, schemaFile } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

// When Redis lost its streams, Kafka is where sinks rebuild from: the bridge has produced every
// event into the entity's topic, and the schemas into the schema mirror. A PostgreSQL sink reading
// the topic into an empty schema must end up with exactly the rows the Redis-fed sink held.

/** Redis partitions of `todo`; its topic gets another count, as a bridge may configure. */
const P = 4;
const TOPIC_PARTITIONS = 3;

const todoV1 = schemaFile('todo') as unknown as { fields: object[] };
const todoV2 = {
  ...todoV1,
  fields: [...todoV1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
} as unknown as AvroSchema;

interface World {
  line: KafkaBrokerLine;
  redis: TestRedis;
  kafka: TestKafka;
  admin: Admin;
  prefix: string;
  keys: Keys;
  runners: SinkRunner[];
  cleanup(): Promise<void>;
}

async function world(line: KafkaBrokerLine): Promise<World> {
  const redis = await createTestRedis('kafka_source');
  const kafka = await createTestKafka('kafka_source', { line });
  const admin = kafka.kafka.admin();
  await admin.connect();
  const prefix = redis.capturePrefix;
  const runners: SinkRunner[] = [];
  return {
    line,
    redis,
    kafka,
    admin,
    prefix,
    keys: new Keys(prefix),
    runners,
    async cleanup() {
      for (const runner of runners) await runner.stop().catch(() => undefined);
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
      await admin.disconnect();
      await kafka.cleanup();
      await redis.cleanup();
    },
  };
}

/** The Kafka source settings of a sink reading the test's topics. */
function kafkaSource(w: World): KafkaSourceSettings {
  return {
    kind: 'kafka',
    kafka: {
      brokers: [...w.line.brokers],
      clientId: 'kafka-source-test',
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    },
  };
}

/** Starts the bridge, mirroring each writer schema before its first message commits. */
async function startBridge(w: World, mirrorProducer: Producer, capture: Capture) {
  const metadata = new EntityMetadataStore(w.redis.redis, w.keys);
  const sink = new KafkaBridgeSink(
    {
      kafka: { brokers: [...w.line.brokers], clientId: w.prefix, connectionTimeout: 3000 },
      name: 'kafka',
      prefix: w.prefix,
      topics: { todo: { partitions: TOPIC_PARTITIONS } },
    },
    {
      entityPartitions: () => metadata.all(),
      ownsPartition: leaseOwnership(w.redis.redis, w.keys, 'kafka', 'bridge-1'),
      instrumentation: new Instrumentation(),
      schemaMirror: {
        mirror: async (schema: RegisteredSchema) => {
          await mirrorSchema(
            mirrorProducer,
            w.prefix,
            capture.registry,
            schema.id,
            await metadata.get(schema.entity),
          );
        },
      },
    },
  );
  const runner = await startTestRunner(sink, w.prefix, 'bridge-1');
  w.runners.push(runner);
  return runner;
}

async function startSink(w: World, sink: Sink, kafka: boolean): Promise<SinkRunner> {
  const runner = await startTestRunner(
    sink,
    w.prefix,
    `${sink.name}-1`,
    kafka ? { source: kafkaSource(w) } : {},
  );
  w.runners.push(runner);
  return runner;
}

/** Every row of the todo table, versions included, in key order. */
async function todoRows(db: TestPostgres): Promise<Array<Record<string, unknown>>> {
  const { rows } = await db.pool.query(
    `SELECT id, name, description, done, priority, _cdc_ms, _cdc_seq
       FROM ${pg.escapeIdentifier(db.schema)}.todo ORDER BY id`,
  );
  return rows;
}

/** Writes todos with v1, then with v2, upserts and deletes over a few keys. */
async function writeHistory(w: World): Promise<Capture[]> {
  const v1 = await createTestCapture(w.prefix, ['todo'], P);
  for (let i = 0; i < 300; i++)
    await v1.upsert('todo', { id: `t${i % 60}`, name: `v1 #${i}`, done: i % 3 === 0 });
  for (let i = 0; i < 60; i += 7) await v1.delete('todo', `t${i}`);
  const v2 = await createCapture({
    redis: testRedisOptions(),
    prefix: w.prefix,
    entities: { todo: { schema: todoV2, partitions: P } },
  });
  for (let i = 0; i < 100; i++)
    await v2.upsert('todo', { id: `t${(i * 7) % 70}`, name: `v2 #${i}`, priority: i });
  return [v1, v2];
}

for (const line of KAFKA_BROKER_LINES) {
  test(`${line.name}: Redis lost its data: sinks reading Kafka rebuild what the Redis-fed sink held, dead-letter what cannot be decoded, and replay from a Kafka offset or time`, {
    timeout: 300_000,
  }, async () => {
    const w = await world(line);
    const before = await createTestPostgres('kafka_src_before');
    const after = await createTestPostgres('kafka_src_after');
    let mongo: TestMongo | undefined;
    const mirrorProducer = w.kafka.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const bad = w.kafka.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await mirrorProducer.connect();
      const captures = await writeHistory(w);
      await startBridge(w, mirrorProducer, captures[0]!);
      const fed = new PostgresSink({ url: testEnv.postgresUrl, schema: before.schema });
      await startSink(w, fed, false);
      await waitFor(
        'the bridge and the Redis-fed sink caught up',
        async () =>
          (await sinkCaughtUp(w.redis.redis, w.keys, 'todo', P, 'kafka')) &&
          (await sinkCaughtUp(w.redis.redis, w.keys, 'todo', P, 'postgres')),
        120_000,
        100,
      );
      const held = await todoRows(before);
      assert.ok(held.length > 50, `the Redis-fed sink holds ${held.length} rows`);
      assert.ok(held.some((r) => r.priority !== null) && held.some((r) => r.priority === null));
      const ids = new Map(
        (await captures[1]!.registry.versions('todo')).map((s) => [s.version, s.id]),
      );

      // Everything stops, and Redis loses every key of the deployment.
      for (const runner of w.runners.splice(0)) await runner.stop();
      for (const capture of captures) await capture.close();
      const lost = await keysUnder(w.redis.redis, `${w.prefix}:*`);
      await deleteKeys(w.redis.redis, lost);
      assert.deepEqual(await keysUnder(w.redis.redis, `${w.prefix}:*`), []);

      // A PostgreSQL sink reading Kafka rebuilds into an empty schema.
      const rebuilt = new PostgresSink({ url: testEnv.postgresUrl, schema: after.schema });
      const runner = await startSink(w, rebuilt, true);
      await waitFor(
        'the Kafka-fed sink holds the rows the Redis-fed one held',
        async () => {
          const rows = await todoRows(after).catch(() => []);
          return rows.length === held.length && JSON.stringify(rows) === JSON.stringify(held);
        },
        120_000,
        200,
      );
      assert.deepEqual(await todoRows(after), held);
      // Its partitions are the topic's, not the capture's; its schemas came back with their ids.
      assert.equal(runner.ownedPartitions().length, TOPIC_PARTITIONS);
      const registry = new SchemaRegistry(w.redis.redis, w.keys);
      assert.deepEqual(
        (await registry.versions('todo')).map((s) => [s.version, s.id]),
        [...ids],
      );
      // A capture starting again registers the same schemas and finds them as they were.
      const again = await createCapture({
        redis: testRedisOptions(),
        prefix: w.prefix,
        entities: { todo: { schema: todoV2, partitions: P } },
      });
      assert.equal((await again.registry.latest('todo')).id, ids.get(2));
      await again.close();

      // A message that cannot be decoded goes to the sink's dead letters, its key quarantined.
      await bad.connect();
      const topic = `${w.prefix}.todo`;
      const [written] = await bad.send({
        topic,
        messages: [
          {
            key: 'poison',
            value: Buffer.from('not a wire-format value'),
            headers: {
              'cdc.op': 'upsert',
              'cdc.entity': 'todo',
              'cdc.key': 'poison',
              'cdc.captured_at': String(Date.now()),
              'cdc.stream_id': '1-0',
              'cdc.partition': '0',
            },
          },
        ],
      });
      const letters = new DeadLetters(w.redis.redis, w.keys, 'postgres');
      const [letter] = await waitFor('the poison message dead-lettered', async () => {
        const found = await letters.list({ key: 'poison' });
        return found.length > 0 ? found : undefined;
      });
      assert.equal(letter!.partition, written!.partition);
      assert.equal(letter!.sourceId, `${BigInt(written!.baseOffset!) + 1n}-0`);
      assert.match(letter!.error, /^EnvelopeError: not a Confluent wire-format value/);
      // The key is quarantined right after its letter is written (the next round trip).
      await waitFor('the poison key quarantined', async () =>
        (await letters.quarantined('todo', written!.partition)).has('poison'),
      );
      // An operator skips it: the quarantine is found in the topic's partition and released.
      const skip = await runCdc(
        w.prefix,
        'skip',
        '--sink',
        'postgres',
        '--entity',
        'todo',
        '--key',
        'poison',
      );
      assert.equal(skip.code, 0, skip.out);
      await waitFor(
        'the poison key released',
        async () => !(await letters.quarantined('todo', written!.partition)).has('poison'),
      );
      assert.deepEqual(await letters.list({ key: 'poison' }), []);

      // cdc replay from a Kafka offset: rows the target lost come back.
      await after.pool.query(`DELETE FROM ${pg.escapeIdentifier(after.schema)}.todo`);
      const kafkaEnv = { KAFKA_BROKERS: w.line.brokers.join(',') };
      const replay = await runCdc(
        w.prefix,
        kafkaEnv,
        'replay',
        '--sink',
        'postgres',
        '--from-offset',
        '0',
      );
      assert.equal(replay.code, 0, replay.out);
      assert.match(replay.out, /after offset/);
      await waitFor(
        'the replay from offset 0 brought every row back',
        async () => JSON.stringify(await todoRows(after)) === JSON.stringify(held),
        60_000,
        200,
      );
      // ...and from a time: before anything was written, so again everything.
      await after.pool.query(`DELETE FROM ${pg.escapeIdentifier(after.schema)}.todo`);
      const byTime = await runCdc(
        w.prefix,
        kafkaEnv,
        'replay',
        '--sink',
        'postgres',
        '--from-time',
        new Date(Date.now() - 3_600_000).toISOString(),
      );
      assert.equal(byTime.code, 0, byTime.out);
      await waitFor(
        'the replay from a time brought every row back',
        async () => JSON.stringify(await todoRows(after)) === JSON.stringify(held),
        60_000,
        200,
      );

      // A MongoDB sink reading Kafka rebuilds the same state.
      mongo = await createTestMongo('kafka_source');
      await startSink(w, new MongoSink({ url: mongo.url, serverSelectionTimeoutMS: 3000 }), true);
      const byKey = (a: unknown[], b: unknown[]) => (String(a[0]) < String(b[0]) ? -1 : 1);
      const expected = held.map((r) => [r.id, r.name, r.priority]).sort(byKey);
      const db = mongo.db;
      await waitFor(
        'the Kafka-fed MongoDB sink holds the same records',
        async () => {
          const docs = await db.collection('todo').find({ _deleted: false }).toArray();
          const found = docs.map((d) => [d._id, d.name, d.priority]).sort(byKey);
          return JSON.stringify(found) === JSON.stringify(expected);
        },
        120_000,
        200,
      );
    } finally {
      await mirrorProducer.disconnect().catch(() => undefined);
      await bad.disconnect().catch(() => undefined);
      await w.cleanup();
      await before.cleanup();
      await after.cleanup();
      await mongo?.cleanup();
    }
  });

  test(`${line.name}: sink instances reading Kafka share its partitions by lease, take over from the target offsets, resume after a restart and never apply an aborted transaction`, {
    timeout: 300_000,
  }, async () => {
    const w = await world(line);
    const db = await createTestPostgres('kafka_src_takeover');
    const producer = w.kafka.kafka.producer({
      transactionalId: `${w.prefix}.test`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    try {
      // Redis keeps its data here: the schema and metadata are the capture's.
      const registry = new SchemaRegistry(w.redis.redis, w.keys);
      const schema = await registry.register('todo', schemaFile('todo'));
      await new EntityMetadataStore(w.redis.redis, w.keys).pin('todo', {
        partitions: 2,
        keyField: 'id',
      });
      const topic = `${w.prefix}.todo`;
      await createTopicIfMissing(w.admin, { topic, numPartitions: 4 });
      await producer.connect();
      const last = new Map<string, { name: string; version: string }>();
      let sequence = 0;
      /** Produces `count` upserts over 40 keys in one transaction, committed or aborted. */
      const produce = async (count: number, commit = true): Promise<void> => {
        const tx = await producer.transaction();
        const messages: Message[] = [];
        const produced: Array<[string, { name: string; version: string }]> = [];
        for (let i = 0; i < count; i++) {
          const n = sequence++;
          const key = commit ? `k${n % 40}` : 'ghost';
          const version = `${1_700_000_000_000 + n}-0`;
          const payload = schema.type.toBuffer({
            id: key,
            name: String(n),
            description: null,
            done: false,
            created_at: null,
            updated_at: null,
          });
          const event = {
            id: version,
            op: 'upsert' as const,
            entity: 'todo',
            key,
            schemaId: schema.id,
            payload,
            capturedAt: 1,
          };
          messages.push(encodeKafkaMessage(event, n % 2));
          produced.push([key, { name: String(n), version }]);
        }
        await tx.send({ topic, messages });
        if (!commit) return tx.abort();
        await tx.commit();
        for (const [key, value] of produced) last.set(key, value);
      };
      const expected = () =>
        [...last].map(([id, { name, version }]) => [id, name, version.split('-')[0]]).sort();
      const rows = async () =>
        (
          await db.pool.query<{ id: string; name: string; _cdc_ms: string }>(
            `SELECT id, name, _cdc_ms FROM ${pg.escapeIdentifier(db.schema)}.todo`,
          )
        ).rows
          .map((r) => [r.id, r.name, r._cdc_ms])
          .sort();
      const applied = (rows: unknown[][]) => JSON.stringify(rows) === JSON.stringify(expected());

      await produce(300);
      await produce(50, false);
      const instrumentation = new Instrumentation();
      const start = (consumer: string, counted?: { events: number }) => {
        if (counted) instrumentation.on('sink.batch.applied', (e) => (counted.events += e.events));
        return startTestRunner(
          new PostgresSink({ url: testEnv.postgresUrl, schema: db.schema }),
          w.prefix,
          consumer,
          { source: kafkaSource(w), ...(counted ? { instrumentation } : {}) },
        );
      };
      const a = await start('a');
      const b = await start('b');
      w.runners.push(a, b);
      await waitFor(
        'both instances own partitions and applied everything',
        async () =>
          a.ownedPartitions().length === 2 &&
          b.ownedPartitions().length === 2 &&
          applied(await rows()),
        60_000,
        100,
      );

      // One instance stops: the other takes its partitions over from the target's offsets.
      await a.stop();
      await produce(200);
      await waitFor(
        'b took over and applied everything',
        async () => b.ownedPartitions().length === 4 && applied(await rows()),
        60_000,
        100,
      );

      // All stop; a new instance resumes from the offsets stored in the target: it applies the
      // 100 events produced since, and nothing of the aborted transactions.
      await b.stop();
      await produce(100);
      await produce(20, false);
      const counted = { events: 0 };
      const c = await start('c', counted);
      w.runners.push(c);
      await waitFor('c applied the new events', async () => applied(await rows()), 60_000, 100);
      await waitFor('c counted them', () => counted.events === 100, 10_000);
      // Caught up, its lag is 0 in every partition, transaction markers and aborted records aside.
      const lag = new Map<number, number | undefined>();
      instrumentation.on('sink.lag', (e) => lag.set(e.partition, e.entries));
      await waitFor(
        'a lag of 0 reported for every partition',
        () => lag.size === 4 && [...lag.values()].every((entries) => entries === 0),
        10_000,
      );
      // An aborted transaction fetched on its own (only filtered records: kafkajs hands its batch
      // to no eachBatch) still counts as consumed.
      const endOf = async () =>
        (await w.admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.offset), 0);
      const ended = await endOf();
      await produce(10, false);
      await waitFor('the abort is stable', async () => (await endOf()) > ended + 10);
      await sleep(600); // past the source's cached end offsets
      lag.clear();
      await waitFor(
        'a lag of 0 again once the aborted records were fetched',
        () => lag.size === 4 && [...lag.values()].every((entries) => entries === 0),
        10_000,
      );
      assert.ok(!(await rows()).some(([id]) => id === 'ghost'));
      // The stored offsets are positions after the last message of each partition.
      const { rows: offsets } = await db.pool.query<{ stream_id: string }>(
        `SELECT stream_id FROM ${pg.escapeIdentifier(db.schema)}.cdc_offsets`,
      );
      assert.equal(offsets.length, 4);
      for (const { stream_id } of offsets) assert.match(stream_id, /^\d+-0$/);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await w.cleanup();
      await db.cleanup();
    }
  });
}
