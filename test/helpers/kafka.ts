import { type Admin, Kafka, logLevel } from 'kafkajs';
import { testEnv } from './env.ts';
import { uniqueNamespace } from './namespace.ts';
import { unreachableError } from './unreachable.ts';

export interface TestKafka {
  /** A client for the test's own producers and consumers, which the test disconnects. */
  readonly kafka: Kafka;
  /** Prefix of every topic `createTopic` makes, e.g. `t_smoke_1a2b3c4d-`. */
  readonly topicPrefix: string;
  /** Creates `${topicPrefix}${name}`, waits for its leaders and returns the full name. */
  createTopic(name: string, partitions?: number): Promise<string>;
  /** Deletes the topics made by `createTopic` and disconnects the admin client. */
  cleanup(): Promise<void>;
}

/**
 * Connects to the test Kafka. Connection timeouts and retries are short so that a stopped
 * broker fails the test in seconds; kafkajs' own defaults retry for about half a minute.
 */
export async function createTestKafka(label = 'kafka'): Promise<TestKafka> {
  const topicPrefix = `${uniqueNamespace(label)}-`;
  const kafka = new Kafka({
    clientId: topicPrefix.slice(0, -1),
    brokers: testEnv.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const admin: Admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw unreachableError('kafka', testEnv.kafkaBrokers.join(','), error);
  }
  const created: string[] = [];

  return {
    kafka,
    topicPrefix,
    async createTopic(name, partitions = 1) {
      const topic = `${topicPrefix}${name}`;
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      created.push(topic);
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
