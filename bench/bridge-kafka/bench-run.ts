import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import type { ChildSink } from '../support/child-sink.ts';
import { deleteUnder } from '../support/redis-cleanup.ts';
import type { BridgeBenchOptions } from './options.ts';

export const ENTITY = 'todo';

/** A run's connections and names; `close` removes everything the run wrote. */
export interface BenchRun {
  options: BridgeBenchOptions;
  redisUrl: string;
  prefix: string;
  redis: Redis;
  capture: Capture;
  kafka: Kafka;
  admin: Admin;
  /** Children still to stop if the run fails. */
  children: Set<ChildSink>;
  close(): Promise<void>;
}

export async function openRun(options: BridgeBenchOptions, schema: AvroSchema): Promise<BenchRun> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench_bridge_${randomBytes(4).toString('hex')}`;
  const redis = new Redis(redisUrl);
  const capture = await createCapture({
    redis: { url: redisUrl },
    prefix,
    entities: { [ENTITY]: { schema, partitions: options.partitions } },
  });
  const kafka = new Kafka({
    clientId: prefix,
    brokers: options.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const children = new Set<ChildSink>();
  return {
    options,
    redisUrl,
    prefix,
    redis,
    capture,
    kafka,
    admin,
    children,
    async close() {
      for (const child of children) child.kill();
      await capture.close();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
      const groups = (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(`${prefix}.`));
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      await admin.disconnect();
      await deleteUnder(redis, `${prefix}:*`);
      redis.disconnect();
    },
  };
}

/** A fresh topic of the run with `partitions` partitions, its leaders elected. */
export async function createRunTopic(run: BenchRun, name: string): Promise<string> {
  const topic = `${run.prefix}.${name}`;
  await run.admin.createTopics({
    topics: [{ topic, numPartitions: run.options.partitions, replicationFactor: 1 }],
    waitForLeaders: false,
  });
  for (let i = 0; i < 100; i++) {
    const metadata = await run.admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    const partitions = metadata?.topics[0]?.partitions ?? [];
    if (partitions.length === run.options.partitions && partitions.every((p) => p.leader >= 0))
      return topic;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`topic ${topic} has no leaders after 10 s`);
}
