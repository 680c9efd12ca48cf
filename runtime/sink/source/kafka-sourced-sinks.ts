import type { Keys } from '../../keys.ts';
import type { RedisClient } from '../../redis-client.ts';

/**
 * Which sinks read Kafka instead of the partition streams, and which topic for each entity:
 * written by a sink's Kafka source when it opens an entity, read by `cdc replay`, whose
 * starting points for such a sink are Kafka offsets, not stream ids.
 */
export class KafkaSourcedSinks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** The sink reads these entities from these topics (and is listed for `cdc lag`). */
  async record(sink: string, topics: ReadonlyMap<string, string>): Promise<void> {
    if (topics.size === 0) return;
    await this.redis.hset(this.keys.sinkKafkaTopics(sink), Object.fromEntries(topics));
    await this.redis.sadd(this.keys.kafkaSourcedSinks(), sink);
  }

  /** Every sink that ever recorded its topics, by name (one moved back to the streams too). */
  async sinks(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.kafkaSourcedSinks())).sort();
  }

  /** The topic of each entity the sink reads from Kafka; empty for a sink that reads streams. */
  async topicsOf(sink: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.sinkKafkaTopics(sink))));
  }
}
