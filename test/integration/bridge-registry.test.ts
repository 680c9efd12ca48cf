import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SchemaRegistry as RegistryClient } from '@kafkajs/confluent-schema-registry';
import type { KafkaMessage } from 'kafkajs';
import { createCapture } from '../../runtime/capture/capture.ts';
import { EntityMetadataStore } from '../../runtime/capture/entity-metadata.ts';
import { resolveKafkaTopics } from '../../runtime/kafka/kafka-topics.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { KafkaBridgeSink } from '../../services/bridge-kafka/src/kafka-bridge-sink.ts';
import { leaseOwnership } from '../../services/bridge-kafka/src/partition-ownership.ts';
import { buildCaptureServer } from '../../services/capture/src/server.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestKafka } from '../helpers/kafka.ts';
import { createTestRedis, testRedisOptions } from '../helpers/redis.ts';
import { schemaFile } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const todoV1 = schemaFile('todo') as unknown as { fields: object[] } & Record<string, unknown>;
const todoV2 = {
  ...todoV1,
  fields: [...todoV1.fields, { name: 'priority', type: ['null', 'int'], default: null }],
} as unknown as AvroSchema;

test('a standard registry client decodes the bridge records a plain kafkajs consumer reads, through the capture service', async (t) => {
  const redis = await createTestRedis('bridge_registry');
  const kafka = await createTestKafka('bridge_registry');
  const prefix = redis.capturePrefix;
  const open = (schema: AvroSchema) =>
    createCapture({
      redis: testRedisOptions(),
      prefix,
      entities: { todo: { schema, partitions: 2 } },
    });
  // Version 1 writes some records, version 2 (one more field) the others: the topic holds both.
  const v1 = await open(todoV1 as unknown as AvroSchema);
  const written = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < 10; i++) {
    const record = { id: `old${i}`, name: `v1 ${i}`, done: i % 2 === 0 };
    await v1.upsert('todo', record);
    written.set(record.id, record);
  }
  await v1.close();
  const capture = await open(todoV2);
  for (let i = 0; i < 10; i++) {
    const record = { id: `new${i}`, name: `v2 ${i}`, priority: i };
    await capture.upsert('todo', record);
    written.set(record.id, record);
  }
  await capture.delete('todo', 'old0');

  const app = buildCaptureServer(capture, {
    kafkaTopics: resolveKafkaTopics(undefined, prefix, new Map([['todo', { partitions: 2 }]])),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const sink = new KafkaBridgeSink(
    { kafka: { brokers: [...testEnv.kafkaBrokers], clientId: prefix }, name: 'kafka', prefix },
    {
      entityPartitions: () => new EntityMetadataStore(redis.redis, capture.keys).all(),
      ownsPartition: leaseOwnership(redis.redis, capture.keys, 'kafka', 'bridge-1'),
    },
  );
  const runner = await startTestRunner(sink, prefix, 'bridge-1');
  const consumer = kafka.kafka.consumer({ groupId: `${prefix}-reader` });
  t.after(async () => {
    await consumer.disconnect().catch(() => undefined);
    await runner.stop();
    await app.close();
    await capture.close();
    const admin = kafka.kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    await admin.disconnect();
    await kafka.cleanup();
    await redis.cleanup();
  });
  await waitFor('the bridge caught up', () =>
    sinkCaughtUp(redis.redis, capture.keys, 'todo', 2, 'kafka'),
  );

  // From here on, no project code: a plain consumer and the standard registry client.
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: `${prefix}.todo`, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
    },
  });
  await waitFor('every record read', () => messages.length === 21, 30_000);
  const { port } = app.server.address() as AddressInfo;
  const registry = new RegistryClient({ host: `http://127.0.0.1:${port}` });
  const decoded = new Map<string, Record<string, unknown>>();
  const tombstones: string[] = [];
  for (const message of messages) {
    const key = message.key!.toString();
    if (message.value === null) tombstones.push(key);
    else decoded.set(key, { ...(await registry.decode(message.value)) });
  }
  assert.deepEqual(tombstones, ['old0']);
  assert.equal(decoded.size, 20);
  for (const [key, record] of written) {
    const got = decoded.get(key)!;
    for (const [field, value] of Object.entries(record))
      assert.deepEqual(got[field], value, `${key}.${field}`);
  }
  // Each record decodes with the schema it was written with: v1 records have no priority.
  assert.equal('priority' in decoded.get('old1')!, false);
  assert.equal(decoded.get('new3')?.priority, 3);
});
