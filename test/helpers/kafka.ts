import { type Admin, Kafka, type logCreator, logLevel } from 'kafkajs';
import { waitFor } from '../support/wait-for.ts';
import { testEnv } from './env.ts';
import { uniqueNamespace } from './namespace.ts';
import { unreachableError } from './unreachable.ts';

/** One Kafka broker line the harness runs (scripts/servers.sh), so a test can run on each. */
export interface KafkaBrokerLine {
  /** How tests name it, e.g. `kafka 4.x`. */
  readonly name: string;
  /** The harness server that runs it, named in the "start it with" hint of an unreachable one. */
  readonly server: 'kafka' | 'kafka4';
  /** Its bootstrap `host:port` list. */
  readonly brokers: readonly string[];
}

/** Kafka 3.9 at `KAFKA_BROKERS`. */
export const KAFKA_3_9: KafkaBrokerLine = {
  name: 'kafka 3.9',
  server: 'kafka',
  brokers: testEnv.kafkaBrokers,
};

/** Kafka 4.x at `KAFKA4_BROKERS`: KRaft only, and older protocol versions removed (KIP-896). */
export const KAFKA_4: KafkaBrokerLine = {
  name: 'kafka 4.x',
  server: 'kafka4',
  brokers: testEnv.kafka4Brokers,
};

/**
 * Every broker line a Kafka test should pass on: users run both, and kafkajs (unmaintained
 * since 2023) was never released against 4.x. Iterate it to run the same test on each.
 */
export const KAFKA_BROKER_LINES: readonly KafkaBrokerLine[] = [KAFKA_3_9, KAFKA_4];

export interface TestKafkaOptions {
  /** The brokers to connect to. Default: {@link KAFKA_3_9}. */
  readonly line?: KafkaBrokerLine;
  /**
   * Where kafkajs' own log entries go, for a test that checks what kafkajs did on its own (a
   * retry it logged, say), with the least level to pass on. Default: kafkajs logs nothing.
   */
  readonly log?: { readonly creator: logCreator; readonly level: logLevel };
}

export interface TestKafka {
  /** A client for the test's own producers and consumers, which the test disconnects. */
  readonly kafka: Kafka;
  /** The broker line it is connected to. */
  readonly line: KafkaBrokerLine;
  /** Prefix of every topic `createTopic` makes, e.g. `t_smoke_1a2b3c4d-`. */
  readonly topicPrefix: string;
  /** Creates `${topicPrefix}${name}`, waits for the leaders of all its partitions, returns the name. */
  createTopic(name: string, partitions?: number): Promise<string>;
  /** Deletes the topics made by `createTopic` and disconnects the admin client. */
  cleanup(): Promise<void>;
}

/**
 * Connects to a test Kafka (Kafka 3.9 unless `options.line` names another). Connection
 * timeouts and retries are short so that a stopped broker fails the test in seconds; kafkajs'
 * own defaults retry for about half a minute.
 */
export async function createTestKafka(
  label = 'kafka',
  options: TestKafkaOptions = {},
): Promise<TestKafka> {
  const line = options.line ?? KAFKA_3_9;
  const topicPrefix = `${uniqueNamespace(label)}-`;
  const kafka = new Kafka({
    clientId: topicPrefix.slice(0, -1),
    brokers: [...line.brokers],
    logLevel: options.log?.level ?? logLevel.NOTHING,
    ...(options.log ? { logCreator: options.log.creator } : {}),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const admin: Admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw unreachableError(line.server, line.brokers.join(','), error);
  }
  const created: string[] = [];

  return {
    kafka,
    line,
    topicPrefix,
    async createTopic(name, partitions = 1) {
      const topic = `${topicPrefix}${name}`;
      // Not kafkajs' waitForLeaders: it gives up on the first UNKNOWN_TOPIC_OR_PARTITION, which
      // both brokers answer for a moment after a create (often for topics of several
      // partitions made one after another), and rejects although the topic was made.
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: false,
      });
      created.push(topic);
      await waitFor(
        `leaders of the ${partitions} partitions of ${topic}`,
        async () => {
          const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
          const found = metadata.topics[0]?.partitions ?? [];
          if (found.length !== partitions || found.some((partition) => partition.leader < 0)) {
            return false;
          }
          // A leader named in the metadata may not serve its partition yet (a loaded broker
          // still taking it over answers NOT_LEADER_FOR_PARTITION to the first produce requests):
          // ListOffsets goes to each leader and succeeds only once every one serves.
          await admin.fetchTopicOffsets(topic);
          return true;
        },
        30_000,
        100,
      );
      return topic;
    },
    async cleanup() {
      try {
        if (created.length > 0) await admin.deleteTopics({ topics: created, timeout: 10_000 });
      } finally {
        await admin.disconnect();
      }
    },
  };
}
