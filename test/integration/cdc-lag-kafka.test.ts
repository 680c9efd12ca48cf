import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Admin } from 'kafkajs';
import type { Capture } from '../../runtime/capture/capture.ts';
import { partitionOf } from '../../runtime/partition.ts';
import type { SinkRunner } from '../../runtime/sink/sink-runner.ts';
import { PostgresSink } from '../../services/sink-postgres/src/postgres-sink.ts';
import { testEnv } from '../helpers/env.ts';
import { createTestKafka, KAFKA_BROKER_LINES, type TestKafka } from '../helpers/kafka.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { readTopic } from '../support/bridge-topic-check.ts';
import { createTestCapture } from '../support/capture-fixtures.ts';
import { sinkCaughtUp } from '../support/caught-up.ts';
import { runCdc } from '../support/cdc-cli.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';
import { startTestRunner } from '../support/test-runner.ts';
import { waitFor } from '../support/wait-for.ts';

// `cdc lag` beside Kafka: a real bridge process, a PostgreSQL sink reading the bridge's topic,
// and the CLI in its own process, as operators run it.

const P = 2;

interface LagJson {
  streams: Array<{ sink: string; behind: number | string }>;
  kafka_sinks: Array<{
    sink: string;
    partition: number | string;
    applied: string;
    end_offset: number | string;
    behind: number | string;
    offsets_to_end: number | string;
  }>;
  bridges: Array<{
    sink: string;
    aborted_transactions: number;
    last_aborted: string;
    fenced_producers: number;
    last_fenced: string;
    partitions: Array<{
      topic: string;
      partition: number;
      end_offset: number;
      last_produced_offset: number | string;
    }>;
  }>;
  kafka_unavailable?: string;
}

for (const line of KAFKA_BROKER_LINES) {
  describe(`cdc lag with Kafka (${line.name})`, { timeout: 180_000 }, () => {
    let redis: TestRedis;
    let kafka: TestKafka;
    let admin: Admin;
    let db: TestPostgres;
    let capture: Capture;
    let prefix: string;
    let bridge: ServiceProcess;
    let written = 0;
    const topic = () => `${prefix}.todo`;
    const kafkaEnv = { KAFKA_BROKERS: line.brokers.join(',') };
    const lag = async (...args: string[]) => {
      const { code, out } = await runCdc(prefix, kafkaEnv, '--json', 'lag', ...args);
      return { code, out, json: JSON.parse(out.split('\n')[0] ?? '') as LagJson };
    };
    const write = async (count: number, key = (i: number) => `k${i % 20}`) => {
      const writes = Array.from({ length: count }, (_, i) => ({
        op: 'upsert' as const,
        record: { id: key(written + i), name: String(written + i) },
      }));
      written += count;
      await capture.writeMany('todo', writes);
    };
    /** Caught up, and every transaction it began decided (the end offsets stand still). */
    const bridgeSettled = async () => {
      await waitFor('the bridge caught up', () =>
        sinkCaughtUp(redis.redis, capture.keys, 'todo', P, 'kafka'),
      );
      let before = '';
      await waitFor('the topic end offsets settled', async () => {
        const now = JSON.stringify(await admin.fetchTopicOffsets(topic()));
        const settled = now === before;
        before = now;
        return settled;
      });
    };

    before(async () => {
      redis = await createTestRedis('cdc_lag_kafka');
      kafka = await createTestKafka('cdc_lag_kafka', { line });
      admin = kafka.kafka.admin();
      await admin.connect();
      db = await createTestPostgres('cdc_lag_kafka');
      prefix = redis.capturePrefix;
      capture = await createTestCapture(prefix, ['todo'], P);
      bridge = startService('bridge-kafka', {
        REDIS_URL: testEnv.redisUrl,
        CDC_PREFIX: prefix,
        ...kafkaEnv,
        KAFKA_REQUEST_TIMEOUT_MS: '5000',
        SINK_BLOCK_MS: '100',
        SINK_LEASE_MS: '1500',
      });
    });

    after(async () => {
      await bridge.kill('SIGTERM');
      await capture.close();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
      await admin.disconnect();
      await kafka.cleanup();
      await db.cleanup();
      await redis.cleanup();
    });

    test('the bridge: its stream partitions, and per topic partition the end offset and the last record it produced, as a consumer reads the topic', async () => {
      await write(300);
      await bridgeSettled();
      const { code, json } = await lag('--sink', 'kafka');
      assert.equal(code, 0);
      assert.equal(json.kafka_unavailable, undefined);
      assert.equal(json.streams.length, P);
      for (const row of json.streams) assert.equal(row.behind, 0);
      const [b] = json.bridges;
      assert.equal(json.bridges.length, 1);
      assert.equal(b?.sink, 'kafka');
      assert.equal(b?.aborted_transactions, 0);
      assert.equal(b?.fenced_producers, 0);
      assert.equal(b?.last_fenced, '');

      const reads = await readTopic(kafka.kafka, admin, topic());
      assert.equal(reads.length, 300, 'every event in the topic once');
      const ends = await admin.fetchTopicOffsets(topic());
      assert.equal(b?.partitions.length, ends.length);
      for (const p of b?.partitions ?? []) {
        const last = reads.filter((r) => r.partition === p.partition).at(-1);
        assert.equal(p.topic, topic());
        assert.equal(p.last_produced_offset, Number(last?.message.offset));
        assert.equal(p.end_offset, Number(ends.find((e) => e.partition === p.partition)?.offset));
      }
    });

    test('a producer fenced by another of its transactional id counts as fenced and aborted, with the time of the last', async () => {
      const since = Date.now();
      // Another producer of the bridge's transactional id for todo/0 (InitProducerId) fences the
      // bridge's: its next transaction there fails, and it starts a new producer (it holds the lease).
      const intruder = kafka.kafka.producer({
        transactionalId: `${prefix}/kafka/todo/0`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await intruder.connect();
      const transaction = await intruder.transaction();
      await transaction.abort();
      await intruder.disconnect();
      const onPartition0 = Array.from({ length: 400 }, (_, i) => `f${i}`).filter(
        (k) => partitionOf(k, P) === 0,
      );
      await write(40, (i) => onPartition0[i % onPartition0.length]!);
      await bridgeSettled();
      const { json } = await lag('--sink', 'kafka');
      const [b] = json.bridges;
      assert.equal(b?.fenced_producers, 1);
      assert.ok((b?.aborted_transactions ?? 0) >= 1, 'the fenced transaction was aborted');
      assert.ok(Date.parse(b?.last_fenced ?? '') >= since - 1000, b?.last_fenced);
      assert.ok(Date.parse(b?.last_aborted ?? '') >= since - 1000, b?.last_aborted);
      assert.equal((await readTopic(kafka.kafka, admin, topic())).length, written);
      const table = await runCdc(prefix, kafkaEnv, 'lag', '--sink', 'kafka');
      assert.match(table.out, /Kafka bridges/);
      assert.match(table.out, /fenced producers/);
    });

    test('a PostgreSQL sink reading Kafka: 0 behind once caught up, the committed records it has not applied while stopped (--max-behind exits 3), 0 again after', async () => {
      const runner = async (): Promise<SinkRunner> =>
        startTestRunner(
          new PostgresSink({ url: testEnv.postgresUrl, schema: db.schema }),
          prefix,
          'postgres-1',
          {
            source: {
              kind: 'kafka',
              kafka: {
                brokers: [...line.brokers],
                clientId: 'cdc-lag-test',
                connectionTimeout: 3000,
                requestTimeout: 10_000,
                retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
              },
            },
          },
        );
      const behind = async () => {
        const { code, json } = await lag('--sink', 'postgres', '--max-behind', '0');
        return { code, rows: json.kafka_sinks, json };
      };
      let sink = await runner();
      try {
        // Every partition ends with a commit marker past the last record: 0, not 1.
        await waitFor('the Kafka-fed sink caught up', async () => {
          const { code, rows } = await behind();
          return code === 0 && rows.length === P && rows.every((r) => r.behind === 0);
        });
        const { json } = await behind();
        assert.equal(json.streams.length, 0, 'no consumer group on the streams');
        for (const row of json.kafka_sinks) assert.ok(Number(row.offsets_to_end) >= 1);
      } finally {
        await sink.stop();
      }

      const applied = new Map(
        (await behind()).rows.map((r) => [Number(r.partition), BigInt(r.applied.split('-')[0]!)]),
      );
      await write(120);
      await bridgeSettled();
      const reads = await readTopic(kafka.kafka, admin, topic());
      const expected = new Map<number, number>();
      for (const r of reads)
        if (BigInt(r.message.offset) >= (applied.get(r.partition) ?? 0n))
          expected.set(r.partition, (expected.get(r.partition) ?? 0) + 1);
      const stopped = await behind();
      assert.equal(stopped.code, 3);
      assert.equal(
        stopped.rows.reduce((sum, r) => sum + Number(r.behind), 0),
        120,
      );
      for (const row of stopped.rows)
        assert.equal(
          row.behind,
          expected.get(Number(row.partition)) ?? 0,
          `partition ${row.partition}`,
        );
      const most = Math.max(...stopped.rows.map((r) => Number(r.behind)));
      assert.equal((await lag('--sink', 'postgres', '--max-behind', String(most))).code, 0);
      assert.equal((await lag('--sink', 'postgres', '--max-behind', String(most - 1))).code, 3);

      sink = await runner();
      try {
        await waitFor('caught up again', async () => (await behind()).code === 0);
        for (const row of (await behind()).rows) assert.equal(row.behind, 0);
      } finally {
        await sink.stop();
      }
    });

    test('Kafka unreachable or misconfigured: the streams rows still, and one line saying the Kafka figures are unavailable; a Kafka-fed sink is then unknown', async () => {
      for (const brokers of ['127.0.0.1:1', 'not a broker list']) {
        const env = { KAFKA_BROKERS: brokers, KAFKA_CONNECTION_TIMEOUT_MS: '500' };
        const table = await runCdc(prefix, env, 'lag');
        assert.equal(table.code, 0, table.out);
        assert.match(table.out, /kafka.*todo/, 'the bridge consumer group rows');
        const lines = table.out.split('\n').filter((l) => /unavailable/.test(l));
        assert.equal(lines.length, 1, table.out);
        assert.doesNotMatch(table.out, /\n\s+at /, 'no stack trace');
        const json = await runCdc(prefix, env, '--json', 'lag', '--max-behind', '1000');
        assert.equal(json.code, 3, json.out);
        const parsed = JSON.parse(json.out) as LagJson;
        assert.match(parsed.kafka_unavailable ?? '', /\S/);
        assert.equal(parsed.streams.length, P);
        assert.deepEqual(
          parsed.kafka_sinks.map((r) => [r.sink, r.behind]),
          [['postgres', 'unknown']],
        );
        // The bridge's counts live in Redis and stay.
        assert.equal(parsed.bridges[0]?.fenced_producers, 1);
      }
    });
  });
}
