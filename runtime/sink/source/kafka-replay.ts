import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { Keys } from '../../keys.ts';
import type { RedisClient } from '../../redis-client.ts';
import { ReplayRequests } from '../replay-requests.ts';

/** Where a replay of a Kafka-sourced sink starts, in each partition of its topics. */
export type KafkaReplayStart =
  /** The oldest message Kafka still holds. */
  | { from: 'start' }
  /** This offset, in every partition (inclusive). */
  | { from: 'offset'; offset: bigint }
  /** The first message each partition got at or after this time (Kafka's message timestamps). */
  | { from: 'time'; ms: number };

/** What a replay asks of one partition. */
export interface KafkaReplayPartition {
  entity: string;
  partition: number;
  topic: string;
  /**
   * The position consumed again after: `<offset>-0`, so the message at `offset` is read again
   * (kafka-position.ts).
   */
  after: string;
  /** Offsets between there and the partition's end (transaction markers included). */
  entries: number;
}

/**
 * `cdc replay` for a sink that reads Kafka (its topics recorded by KafkaSourcedSinks): per
 * partition of each topic, the position to consume again after, asked of the sink through its
 * replay requests as for the streams (the partition's owner moves the target's offset back, then
 * reads from there). A time is resolved by Kafka (ListOffsets by timestamp: the message time, set
 * when the bridge produced it, which is never before its capture), a partition with nothing after
 * it replays nothing. `dryRun` asks for nothing.
 */
export async function requestKafkaReplay(options: {
  kafka: KafkaConfig;
  redis: RedisClient;
  keys: Keys;
  sink: string;
  /** Entity → topic of the sink. */
  topics: ReadonlyMap<string, string>;
  start: KafkaReplayStart;
  dryRun: boolean;
}): Promise<KafkaReplayPartition[]> {
  const { start } = options;
  const admin = new Kafka({ logLevel: logLevel.NOTHING, ...options.kafka }).admin();
  await admin.connect();
  try {
    const planned: KafkaReplayPartition[] = [];
    for (const [entity, topic] of options.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const at =
        start.from === 'time' ? await admin.fetchTopicOffsetsByTimestamp(topic, start.ms) : [];
      for (const { partition, offset: end, low } of ends) {
        const next =
          start.from === 'offset'
            ? start.offset
            : start.from === 'time'
              ? BigInt(at.find((o) => o.partition === partition)?.offset ?? end)
              : 0n;
        const from = next > BigInt(low) ? next : BigInt(low);
        planned.push({
          entity,
          partition,
          topic,
          // Everything before `next` counts as consumed: the position after message `next - 1`.
          after: `${next}-0`,
          entries: BigInt(end) > from ? Number(BigInt(end) - from) : 0,
        });
      }
    }
    if (!options.dryRun) {
      const requests = new ReplayRequests(options.redis, options.keys, options.sink);
      for (const p of planned) await requests.request(p.entity, p.partition, p.after);
    }
    return planned.sort((a, b) =>
      a.entity === b.entity ? a.partition - b.partition : a.entity < b.entity ? -1 : 1,
    );
  } finally {
    await admin.disconnect();
  }
}
