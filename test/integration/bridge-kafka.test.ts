import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import avro from 'avsc';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Capture } from '../../runtime/capture/capture.ts';
import { EntityMetadataStore } from '../../runtime/capture/entity-metadata.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { decodeKafkaMessage, KAFKA_HEADER } from '../../runtime/kafka/kafka-message.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import type { KafkaBridgeOptions } from '../../services/bridge-kafka/src/kafka-bridge-options.ts';
import { KafkaBridgeSink } from '../../services/bridge-kafka/src/kafka-bridge-sink.ts';
import { leaseOwnership } from '../../services/bridge-kafka/src/partition-ownership.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { createTestKafka, KAFKA_BROKER_LINES, type TestKafka } from '../helpers/kafka.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { createTestCapture, schemaFile } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

const todoType = avro.Type.forSchema(schemaFile('todo') as avro.Schema);

/** One record read back from a topic. */
interface Read {
  message: KafkaMessage;
  partition: number;
}

/**
 * Reads a topic from the start up to where it ends now (its last stable offset, which is also
 * its end once no transaction is open), through a consumer group of its own.
 */
async function readTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  readUncommitted = false,
): Promise<Read[]> {
  const read: Read[] = [];
  const remaining = new Map<number, bigint>();
  for (const { partition, offset, low } of await admin.fetchTopicOffsets(topic))
    if (BigInt(offset) > BigInt(low)) remaining.set(partition, BigInt(offset));
  if (remaining.size === 0) return read;
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`,
    readUncommitted,
    maxWaitTimeInMs: 50,
  });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = remaining.get(payload.partition);
    if (end !== undefined && payload.lastOffset !== null && BigInt(payload.lastOffset) + 1n >= end)
      remaining.delete(payload.partition);
    if (remaining.size === 0) finish();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) read.push({ message, partition: batch.partition });
      },
    });
    await withDeadline(done, 60_000, `reading ${topic} to its end`);
  } finally {
    await consumer.disconnect();
  }
  return read;
}

/** The sequence number a test wrote into a todo's name, from a record's Avro payload. */
function sequenceOf(message: KafkaMessage): number {
  const record = todoType.fromBuffer(message.value!.subarray(5)) as { name: string };
  return Number(record.name);
}

/**
 * Per key, the sequence numbers read in topic order, and any problem: a key in two Kafka
 * partitions, a sequence out of order, or one seen twice.
 */
function keyOrderProblems(reads: readonly Read[]): string[] {
  const problems: string[] = [];
  const last = new Map<string, { seq: number; partition: number }>();
  const seen = new Set<number>();
  for (const { message, partition } of reads) {
    if (message.value === null) continue;
    const key = message.key!.toString();
    const seq = sequenceOf(message);
    if (seen.has(seq)) problems.push(`sequence ${seq} (key ${key}) read twice`);
    seen.add(seq);
    const before = last.get(key);
    if (before && before.partition !== partition)
      problems.push(`key ${key} in partitions ${before.partition} and ${partition}`);
    if (before && before.seq >= seq) problems.push(`key ${key}: ${seq} after ${before.seq}`);
    last.set(key, { seq, partition });
  }
  return problems;
}

interface BridgeContext {
  redis: TestRedis;
  kafka: TestKafka;
  capture: Capture;
  prefix: string;
  /** Starts a bridge in this process, as consumer `consumer`, on a runner with test timings. */
  start(
    consumer?: string,
    options?: Partial<KafkaBridgeOptions>,
    instrumentation?: Instrumentation,
  ): Promise<{ sink: KafkaBridgeSink; runner: SinkRunner }>;
  caughtUp(): Promise<boolean>;
  cleanup(): Promise<void>;
}

async function bridgeContext(
  label: string,
  line: (typeof KAFKA_BROKER_LINES)[number],
  partitions: number,
): Promise<BridgeContext> {
  const redis = await createTestRedis(label);
  const kafka = await createTestKafka(label, { line });
  const prefix = redis.capturePrefix;
  const capture = await createTestCapture(prefix, ['todo'], partitions);
  const runners: SinkRunner[] = [];
  const admin = kafka.kafka.admin();
  await admin.connect();
  return {
    redis,
    kafka,
    capture,
    prefix,
    async start(consumer = 'bridge-1', options = {}, instrumentation = new Instrumentation()) {
      const sink = new KafkaBridgeSink(
        {
          kafka: {
            brokers: [...line.brokers],
            clientId: prefix,
            connectionTimeout: 3000,
            requestTimeout: 10_000,
          },
          name: 'kafka',
          prefix,
          ...options,
        },
        {
          entityPartitions: () => new EntityMetadataStore(redis.redis, capture.keys).all(),
          ownsPartition: leaseOwnership(redis.redis, capture.keys, 'kafka', consumer),
          instrumentation,
        },
      );
      const runner = await startTestRunner(sink, prefix, consumer, { instrumentation });
      runners.push(runner);
      return { sink, runner };
    },
    caughtUp: () => sinkCaughtUp(redis.redis, capture.keys, 'todo', partitions, 'kafka'),
    async cleanup() {
      for (const runner of runners) await runner.stop().catch(() => undefined);
      await capture.close();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
      await admin.disconnect();
      await kafka.cleanup();
      await redis.cleanup();
    },
  };
}

/** Upserts `count` todos over `keys` keys, each named by its sequence number from `from`. */
async function writeTodos(capture: Capture, from: number, count: number, keys: number) {
  for (let done = 0; done < count; done += 1000) {
    const writes = Array.from({ length: Math.min(1000, count - done) }, (_, i) => {
      const seq = from + done + i;
      return { op: 'upsert' as const, record: { id: `k${seq % keys}`, name: String(seq) } };
    });
    await capture.writeMany('todo', writes);
  }
}

describe('Kafka bridge', { timeout: 180_000 }, () => {
  for (const line of KAFKA_BROKER_LINES) {
    test(`${line.name}: 50k events over 1k keys from 8 partitions into 6: every event once, each key in one partition and in order`, async () => {
      const ctx = await bridgeContext('bridge_order', line, 8);
      try {
        await writeTodos(ctx.capture, 1, 50_000, 1000);
        const { sink } = await ctx.start('bridge-1', { topics: { todo: { partitions: 6 } } });
        await waitFor('the bridge caught up', () => ctx.caughtUp(), 120_000, 100);
        const admin = ctx.kafka.kafka.admin();
        await admin.connect();
        try {
          const topic = sink.topicOf('todo');
          assert.equal(topic, `${ctx.prefix}.todo`);
          const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
          assert.equal(metadata.topics[0]?.partitions.length, 6);
          const reads = await readTopic(ctx.kafka.kafka, admin, topic);
          assert.equal(reads.length, 50_000, 'every event once');
          assert.deepEqual(keyOrderProblems(reads), []);
          const sequences = new Set(reads.map((r) => sequenceOf(r.message)));
          assert.equal(sequences.size, 50_000);
          // Every record carries its source partition and stream id in headers.
          const first = decodeKafkaMessage(reads[0]!.message);
          assert.equal(first.event.entity, 'todo');
          assert.ok(first.partition >= 0 && first.partition < 8);
          // The offsets topic holds each source partition's last stream id.
          const offsets = await sink.readOffsets();
          for (let p = 0; p < 8; p++) {
            const [last] = await ctx.redis.redis.xrevrange(
              ctx.capture.keys.stream('todo', p),
              '+',
              '-',
              'COUNT',
              1,
            );
            assert.equal(offsets.get(`todo/${p}`), last?.[0], `offset of partition ${p}`);
          }
        } finally {
          await admin.disconnect();
        }
      } finally {
        await ctx.cleanup();
      }
    });
  }
});
