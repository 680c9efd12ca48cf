import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Capture } from '../../runtime/capture/capture.ts';
import { EntityMetadataStore } from '../../runtime/capture/entity-metadata.ts';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import { ConfigError } from '../../runtime/errors/config-error.ts';
import { Instrumentation } from '../../runtime/instrumentation/instrumentation.ts';
import { decodeKafkaMessage, KAFKA_HEADER } from '../../runtime/kafka/kafka-message.ts';
import { DeadLetters } from '../../runtime/sink/dead-letters.ts';
import type { PartitionBatch, SinkEvent } from '../../runtime/sink/sink.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import type { KafkaBridgeOptions } from '../../services/bridge-kafka/src/kafka-bridge-options.ts';
import { KafkaBridgeSink } from '../../services/bridge-kafka/src/kafka-bridge-sink.ts';
import { leaseOwnership } from '../../services/bridge-kafka/src/partition-ownership.ts';
import { ProducerFencedError } from '../../services/bridge-kafka/src/producer-fenced-error.ts';
import { createTestKafka, type KafkaBrokerLine, type TestKafka } from '../helpers/kafka.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import {
  keyOrderProblems,
  type Read,
  readTopic,
  sequenceOf,
} from '../support/bridge-topic-check.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

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
  line: KafkaBrokerLine,
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

/** A partition stream's events as the runner hands them to a sink (records left undecoded). */
async function streamEvents(ctx: BridgeContext, partition: number): Promise<SinkEvent[]> {
  const entries = await ctx.redis.redis.xrangeBuffer(
    ctx.capture.keys.stream('todo', partition),
    '-',
    '+',
  );
  const events: SinkEvent[] = [];
  for (const [id, fields] of entries) {
    const event = decodeEnvelope(id.toString(), fields);
    const writer =
      event.schemaId === undefined ? undefined : await ctx.capture.registry.get(event.schemaId);
    events.push({ ...event, record: undefined, payload: event.payload, writer });
  }
  return events;
}

/** A bridge sink used directly, without a runner, holding the lease when `owns()` says so. */
function directSink(
  ctx: BridgeContext,
  line: KafkaBrokerLine,
  owns: () => boolean,
  instrumentation: Instrumentation,
): KafkaBridgeSink {
  return new KafkaBridgeSink(
    {
      kafka: { brokers: [...line.brokers], clientId: ctx.prefix },
      name: 'kafka',
      prefix: ctx.prefix,
    },
    {
      entityPartitions: () => new EntityMetadataStore(ctx.redis.redis, ctx.capture.keys).all(),
      ownsPartition: async () => owns(),
      instrumentation,
    },
  );
}

/** Records of a topic whose key is `key`, by sequence number, in topic order. */
function sequencesOfKey(reads: readonly Read[], key: string): number[] {
  return reads
    .filter((r) => r.message.key?.toString() === key && r.message.value !== null)
    .map((r) => sequenceOf(r.message));
}

/**
 * The bridge's integration tests against one broker line; each line runs them from a file of
 * its own (test/integration/bridge-kafka-*.test.ts), so each has its own time budget.
 */
export function bridgeKafkaTests(line: KafkaBrokerLine): void {
  describe(`Kafka bridge on ${line.name}`, { timeout: 280_000 }, () => {
    test(`${line.name}: 50k events over 1k keys from 8 partitions into 6: every event once, each key in one partition and in order`, async () => {
      const ctx = await bridgeContext('bridge_order', line, 8);
      try {
        await writeTodos(ctx.capture, 1, 50_000, 1000);
        // What the bridge says it produced (cdc_bridge_produced_offset and records counted).
        const instrumentation = new Instrumentation();
        const produced = new Map<string, { last: bigint; messages: number }>();
        instrumentation.on('bridge.produced', (e) => {
          const key = `${e.topic}/${e.partition}`;
          const before = produced.get(key);
          const offset = BigInt(e.offset);
          produced.set(key, {
            last: before && before.last > offset ? before.last : offset,
            messages: (before?.messages ?? 0) + e.messages,
          });
        });
        const { sink } = await ctx.start(
          'bridge-1',
          { topics: { todo: { partitions: 6 } } },
          instrumentation,
        );
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
          // bridge.produced counted every record of each partition and named its last offset.
          for (let partition = 0; partition < 6; partition++) {
            const inPartition = reads.filter((r) => r.partition === partition);
            const last = inPartition.reduce(
              (max, r) => (BigInt(r.message.offset) > max ? BigInt(r.message.offset) : max),
              -1n,
            );
            assert.deepEqual(
              produced.get(`${topic}/${partition}`),
              { last, messages: inPartition.length },
              `produced in ${topic}/${partition}`,
            );
          }
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

    test(`${line.name}: a delete arrives as a tombstone with the cdc headers`, async () => {
      const ctx = await bridgeContext('bridge_tombstone', line, 2);
      try {
        await ctx.capture.upsert('todo', { id: 't1', name: 'first' });
        await ctx.capture.delete('todo', 't1', { traceId: 'trace-1' });
        const { sink } = await ctx.start();
        await waitFor('the bridge caught up', () => ctx.caughtUp(), 60_000, 50);
        const admin = ctx.kafka.kafka.admin();
        await admin.connect();
        try {
          let reads: Read[] = [];
          // Committed is not yet readable everywhere: the commit marker may follow the answer.
          await waitFor('both records readable', async () => {
            reads = await readTopic(ctx.kafka.kafka, admin, sink.topicOf('todo'));
            return reads.length >= 2;
          });
          assert.equal(reads.length, 2);
          const [upsert, tombstone] = reads.map((r) => r.message);
          assert.equal(upsert!.value?.[0], 0, 'Confluent wire format: magic byte 0');
          assert.equal(tombstone!.key?.toString(), 't1');
          assert.equal(tombstone!.value, null, 'a delete is a tombstone');
          const headers = tombstone!.headers ?? {};
          assert.equal(headers[KAFKA_HEADER.op]?.toString(), 'delete');
          assert.equal(headers[KAFKA_HEADER.entity]?.toString(), 'todo');
          assert.equal(headers[KAFKA_HEADER.key]?.toString(), 't1');
          const decoded = decodeKafkaMessage(tombstone!);
          assert.equal(decoded.event.op, 'delete');
          const [entry] = await ctx.redis.redis.xrevrange(
            ctx.capture.keys.stream('todo', decoded.partition),
            '+',
            '-',
            'COUNT',
            1,
          );
          assert.equal(decoded.event.id, entry?.[0], 'cdc.stream_id is the source entry id');
        } finally {
          await admin.disconnect();
        }
      } finally {
        await ctx.cleanup();
      }
    });

    test(`${line.name}: an existing topic with another partition count is refused at start, naming both counts`, async () => {
      const ctx = await bridgeContext('bridge_mismatch', line, 4);
      const admin = ctx.kafka.kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({
          topics: [{ topic: `${ctx.prefix}.todo`, numPartitions: 3, replicationFactor: 1 }],
        });
        await ctx.capture.upsert('todo', { id: 'x', name: 'x' });
        await assert.rejects(
          ctx.start('bridge-1', { topics: { todo: { partitions: 6 } } }),
          (error: unknown) =>
            error instanceof ConfigError &&
            /exists with 3 partitions/.test(error.message) &&
            /configured for 6/.test(error.message),
        );
        // Without a setting the entity's partition count (4) is asked for: refused as well.
        await assert.rejects(ctx.start('bridge-2'), /exists with 3 partitions.*configured for 4/s);
        assert.equal((await readTopic(ctx.kafka.kafka, admin, `${ctx.prefix}.todo`)).length, 0);
      } finally {
        await admin.disconnect();
        await ctx.cleanup();
      }
    });

    test(`${line.name}: a fenced producer is not started again while another instance holds the lease; the holder starts a new one and fences a former owner back; every event once, in order`, async () => {
      const ctx = await bridgeContext('bridge_fence', line, 1);
      try {
        await writeTodos(ctx.capture, 1, 40, 5);
        const events = await streamEvents(ctx, 0);
        assert.equal(events.length, 40);
        const holds = { a: true, b: false };
        const started = { a: 0, b: 0 };
        const fenced = { a: 0, b: 0 };
        const instrumentation = { a: new Instrumentation(), b: new Instrumentation() };
        for (const who of ['a', 'b'] as const) {
          instrumentation[who].on('bridge.producer.started', () => started[who]++);
          instrumentation[who].on('bridge.producer.fenced', () => fenced[who]++);
        }
        const a = directSink(ctx, line, () => holds.a, instrumentation.a);
        const b = directSink(ctx, line, () => holds.b, instrumentation.b);
        const target = {
          entity: 'todo',
          schema: await ctx.capture.registry.latest('todo'),
          keyField: 'id',
        };
        const batch = (from: number, to: number): PartitionBatch => ({
          entity: 'todo',
          partition: 0,
          events: events.slice(from, to),
          offset: events[to - 1]!.id,
        });
        try {
          for (const sink of [a, b]) {
            await sink.connect();
            await sink.ensureTargets([target]);
          }
          await a.apply([batch(0, 10)]);
          // A's lease expired (a long pause, say) and B took the partition: B's producer fences A's.
          holds.a = false;
          holds.b = true;
          await b.apply([batch(10, 20)]);
          // A comes back with the batch it had read: fenced, and it starts no producer of its own.
          await assert.rejects(a.apply([batch(10, 20)]), ProducerFencedError);
          await assert.rejects(a.apply([batch(10, 20)]), ProducerFencedError);
          assert.deepEqual(started, { a: 1, b: 1 });
          assert.equal(fenced.a, 1);
          // A former owner whose lease check passed just before its lease went (the one window
          // left) starts a producer and fences B; it produces only what is above B's offset...
          holds.a = true;
          await a.apply([batch(10, 30)]);
          holds.a = false;
          // ...and B, which holds the lease, starts a new producer on its next attempt, fencing A
          // back, and does not produce again what A committed.
          await assert.rejects(b.apply([batch(20, 40)]), ProducerFencedError);
          await b.apply([batch(20, 40)]);
          assert.deepEqual(started, { a: 2, b: 2 });
          assert.equal((await b.readOffsets()).get('todo/0'), events[39]!.id);
        } finally {
          await a.close();
          await b.close();
        }
        const admin = ctx.kafka.kafka.admin();
        await admin.connect();
        try {
          const reads = await readTopic(ctx.kafka.kafka, admin, `${ctx.prefix}.todo`);
          assert.deepEqual(
            reads.map((r) => sequenceOf(r.message)),
            Array.from({ length: 40 }, (_, i) => i + 1),
            'every event once, in stream order',
          );
        } finally {
          await admin.disconnect();
        }
      } finally {
        await ctx.cleanup();
      }
    });

    test(`${line.name}: a new owner reads the offsets past a transaction a dead instance left open on a partition another instance takes: nothing produced twice`, async () => {
      const ctx = await bridgeContext('bridge_open_txn', line, 2);
      try {
        await writeTodos(ctx.capture, 1, 40, 4);
        const zero = await streamEvents(ctx, 0);
        const one = await streamEvents(ctx, 1);
        const holds = { b: new Set([1]), c: new Set<number>(), d: new Set<number>() };
        const target = {
          entity: 'todo',
          schema: await ctx.capture.registry.latest('todo'),
          keyField: 'id',
        };
        const sinkHolding = (held: Set<number>) =>
          new KafkaBridgeSink(
            {
              kafka: { brokers: [...line.brokers], clientId: ctx.prefix },
              name: 'kafka',
              prefix: ctx.prefix,
            },
            {
              entityPartitions: () =>
                new EntityMetadataStore(ctx.redis.redis, ctx.capture.keys).all(),
              ownsPartition: async (_entity, partition) => held.has(partition),
            },
          );
        const b = sinkHolding(holds.b);
        const c = sinkHolding(holds.c);
        const d = sinkHolding(holds.d);
        // A dead instance's producer of partition 0, killed in the middle of a transaction that
        // holds partition 0's records and offset record.
        const dead = ctx.kafka.kafka.producer({
          transactionalId: `${ctx.prefix}/kafka/todo/0`,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        try {
          for (const sink of [b, c, d]) {
            await sink.connect();
            await sink.ensureTargets([target]);
          }
          const batch = (events: SinkEvent[], to: number): PartitionBatch => ({
            entity: 'todo',
            partition: events === zero ? 0 : 1,
            events: events.slice(0, to),
            offset: events[to - 1]!.id,
          });
          await b.apply([batch(one, 5)]);
          await dead.connect();
          const open = await dead.transaction();
          await open.send({
            topic: b.offsetsTopic,
            messages: [{ key: 'kafka/todo/0', value: zero.at(-1)!.id }],
          });
          await open.send({
            topic: `${ctx.prefix}.todo`,
            messages: zero.map((e) => ({ key: e.key, value: 'from a dead instance' })),
          });
          // Partition 1's next batch commits after it, then its instance dies too.
          await b.apply([batch(one, 10)]);
          // C takes partition 1 over (its runner hands it partition 1's events from the start:
          // B never acknowledged them, say) and D, a moment later, partition 0. C's read of the
          // offsets waits until the dead transaction is decided (D's producer aborts it) rather
          // than stop below it and miss B's second batch.
          holds.c.add(1);
          holds.d.add(0);
          await Promise.all([
            c.apply([batch(one, one.length)]),
            sleep(500).then(() => d.readOffsets()),
          ]);
          await d.apply([batch(zero, zero.length)]);
        } finally {
          await dead.disconnect();
          await b.close();
          await c.close();
          await d.close();
        }
        const admin = ctx.kafka.kafka.admin();
        await admin.connect();
        try {
          const reads = await readTopic(ctx.kafka.kafka, admin, `${ctx.prefix}.todo`);
          assert.deepEqual(keyOrderProblems(reads), []);
          assert.equal(reads.length, 40, 'every event once, none of the dead transaction');
        } finally {
          await admin.disconnect();
        }
      } finally {
        await ctx.cleanup();
      }
    });

    test(`${line.name}: a record the broker refuses is dead-lettered with its key held; re-driven, it is produced in key order without moving the offset`, async () => {
      const ctx = await bridgeContext('bridge_redrive', line, 2);
      const admin = ctx.kafka.kafka.admin();
      await admin.connect();
      try {
        const topic = `${ctx.prefix}.todo`;
        await admin.createTopics({
          topics: [
            {
              topic,
              numPartitions: 2,
              replicationFactor: 1,
              configEntries: [{ name: 'max.message.bytes', value: '4096' }],
            },
          ],
        });
        await writeTodos(ctx.capture, 1, 20, 5);
        await ctx.capture.upsert('todo', { id: 'big', name: '21', description: 'x'.repeat(8000) });
        await ctx.capture.upsert('todo', { id: 'big', name: '22' });
        await writeTodos(ctx.capture, 23, 20, 5);
        const deadLetters = new DeadLetters(ctx.redis.redis, ctx.capture.keys, 'kafka');
        const { sink } = await ctx.start();
        await waitFor('the bridge caught up', () => ctx.caughtUp(), 60_000, 50);
        const letters = await deadLetters.list({ key: 'big' });
        assert.deepEqual(
          letters.map((l) => l.kind),
          ['failed', 'held'],
        );
        let reads = await readTopic(ctx.kafka.kafka, admin, topic);
        assert.equal(reads.length, 40, 'every other event');
        const offsetsBefore = await readTopic(ctx.kafka.kafka, admin, sink.offsetsTopic);

        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: 2, // ConfigResourceTypes.TOPIC
              name: topic,
              configEntries: [{ name: 'max.message.bytes', value: '1048588' }],
            },
          ],
        });
        const { code, out } = await runCdc(
          ctx.prefix,
          'redrive',
          '--sink',
          'kafka',
          '--entity',
          'todo',
          '--key',
          'big',
        );
        assert.equal(code, 0, out);
        await waitFor(
          'the re-drive',
          async () => (await deadLetters.list({ key: 'big' })).length === 0,
          30_000,
        );
        reads = await readTopic(ctx.kafka.kafka, admin, topic);
        assert.equal(reads.length, 42);
        assert.deepEqual(sequencesOfKey(reads, 'big'), [21, 22]);
        assert.deepEqual(
          keyOrderProblems(reads.filter((r) => r.message.key?.toString() === 'big')),
          [],
        );
        const offsetsAfter = await readTopic(ctx.kafka.kafka, admin, sink.offsetsTopic);
        assert.equal(offsetsAfter.length, offsetsBefore.length, 'no offset record with a re-drive');
      } finally {
        await admin.disconnect();
        await ctx.cleanup();
      }
    });

    test(`${line.name}: cdc replay from the start produces every event again, in key order after the first pass`, async () => {
      const ctx = await bridgeContext('bridge_replay', line, 2);
      try {
        await writeTodos(ctx.capture, 1, 300, 10);
        const { sink } = await ctx.start();
        await waitFor('the bridge caught up', () => ctx.caughtUp(), 60_000, 50);
        const { code, out } = await runCdc(ctx.prefix, 'replay', '--sink', 'kafka', '--from-start');
        assert.equal(code, 0, out);
        const admin = ctx.kafka.kafka.admin();
        await admin.connect();
        try {
          const topic = sink.topicOf('todo');
          await waitFor(
            'the replay produced',
            async () =>
              (await ctx.caughtUp()) &&
              (await readTopic(ctx.kafka.kafka, admin, topic)).length === 600,
            60_000,
            200,
          );
          const reads = await readTopic(ctx.kafka.kafka, admin, topic);
          for (let k = 0; k < 10; k++) {
            const once = Array.from({ length: 30 }, (_, i) => i * 10 + (k === 0 ? 10 : k));
            assert.deepEqual(sequencesOfKey(reads, `k${k}`), [...once, ...once], `key k${k}`);
          }
        } finally {
          await admin.disconnect();
        }
      } finally {
        await ctx.cleanup();
      }
    });
  });
}
