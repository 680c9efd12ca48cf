import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';

/**
 * The topics each Kafka bridge produces to, recorded in Redis by the bridge once it ensured
 * them: `cdc lag`, another process without the bridge's configuration, learns from it which
 * consumer groups are bridges and which topics to ask Kafka about.
 */
export class BridgeTopics {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** The bridge produces these entities to these topics. */
  async record(sink: string, topics: ReadonlyMap<string, string>): Promise<void> {
    if (topics.size === 0) return;
    await this.redis.hset(this.keys.bridgeTopics(sink), Object.fromEntries(topics));
  }

  /** The topic of each entity the sink produces to; empty for a sink that is not a bridge. */
  async of(sink: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.bridgeTopics(sink))));
  }
}
