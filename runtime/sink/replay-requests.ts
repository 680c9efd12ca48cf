import { type CdcRedis, defineCommands } from '../commands/index.ts';
import type { Keys } from '../keys.ts';
import { partitionId } from '../partition-id.ts';
import type { RedisClient } from '../redis-client.ts';

/**
 * Replays operators ask of a sink: consume a partition again from a stream id on. The request
 * waits in Redis until the instance that owns the partition carries it out between two batches
 * (rewinding the offset stored in the target, then the consumer group), so it never races an
 * apply, and it survives a restart of that instance.
 */
export class ReplayRequests {
  private readonly redis: CdcRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    private readonly sink: string,
  ) {
    this.redis = defineCommands(redis);
  }

  /** Asks for a partition to be consumed again after `from` (`0-0`: from the start). */
  async request(entity: string, partition: number, from: string): Promise<void> {
    await this.redis.hset(
      this.keys.replayRequests(this.sink),
      partitionId(entity, partition),
      from,
    );
  }

  /** Requests not carried out yet, by `partitionId(entity, partition)`. */
  async pending(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.replayRequests(this.sink))));
  }

  /** Removes a request once carried out, unless it was replaced by a newer one meanwhile. */
  async done(entity: string, partition: number, from: string): Promise<void> {
    await this.redis.removeReplayRequest(
      this.keys.replayRequests(this.sink),
      partitionId(entity, partition),
      from,
    );
  }
}
