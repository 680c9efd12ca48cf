import type { Admin, ITopicConfig } from 'kafkajs';
import { KafkaUnavailableError } from '../errors/kafka-unavailable-error.ts';
import { retry } from '../retry.ts';

/**
 * Creates a topic unless it exists, and waits until every partition has a leader. Returns
 * whether it was created. Not kafkajs' `waitForLeaders`: it gives up on the first
 * UNKNOWN_TOPIC_OR_PARTITION, which brokers answer for a moment after a create, and rejects
 * although the topic was made.
 */
export async function createTopicIfMissing(admin: Admin, spec: ITopicConfig): Promise<boolean> {
  const created = await admin.createTopics({ topics: [spec], waitForLeaders: false });
  await retry(
    async () => {
      const metadata = await admin
        .fetchTopicMetadata({ topics: [spec.topic] })
        .catch((error: unknown) => {
          throw new KafkaUnavailableError(`topic ${spec.topic} has no metadata yet`, error);
        });
      const partitions = metadata.topics[0]?.partitions ?? [];
      if (partitions.length === 0 || partitions.some((p) => p.leader < 0))
        throw new KafkaUnavailableError(`topic ${spec.topic} has partitions without a leader`);
    },
    { attempts: 60, backoff: { initialMs: 50, maxMs: 500 } },
  );
  return created;
}
