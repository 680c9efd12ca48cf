import type { Keys } from '../keys.ts';
import { partitionId } from '../partition-id.ts';
import type { RedisClient } from '../redis-client.ts';
import { compareStreamIds } from '../stream-id.ts';

/** A range of a partition stream trimmed before a group read it. */
export interface RetentionSkip {
  /** The first entry the group had not applied that went. */
  from: string;
  /** Where the stream was trimmed to: every entry of the group below it is gone. */
  to: string;
  /** Entries the group lost, over every trim past it since the record was made. */
  entries: number;
  /** When the last trim past it happened, ms. */
  at: number;
}

/**
 * What a retention policy trimmed past each group, one record per partition, in the group's own
 * hash (`Keys.retentionSkips`): a dead-letter-like trace of entries a sink never applied, kept
 * until an operator deletes it after rebuilding that sink (from Kafka, or a backfill). Records
 * grow: a later trim past the same group extends the range and adds its entries.
 */
export class RetentionSkips {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async record(
    group: string,
    entity: string,
    partition: number,
    skip: RetentionSkip,
  ): Promise<RetentionSkip> {
    const key = this.keys.retentionSkips(group);
    const field = partitionId(entity, partition);
    // One trimmer per partition (the retention lease) writes a field: read, merge, write is safe.
    const earlier = await this.redis.hget(key, field);
    const merged = earlier ? merge(JSON.parse(earlier) as RetentionSkip, skip) : skip;
    await this.redis.hset(key, field, JSON.stringify(merged));
    return merged;
  }

  /** Every partition's record for a group, by `<entity>/<partition>`. */
  async of(group: string): Promise<Map<string, RetentionSkip>> {
    const all = await this.redis.hgetall(this.keys.retentionSkips(group));
    return new Map(
      Object.entries(all).map(([id, json]) => [id, JSON.parse(json) as RetentionSkip]),
    );
  }
}

function merge(earlier: RetentionSkip, skip: RetentionSkip): RetentionSkip {
  return {
    from: compareStreamIds(earlier.from, skip.from) <= 0 ? earlier.from : skip.from,
    to: compareStreamIds(earlier.to, skip.to) >= 0 ? earlier.to : skip.to,
    entries: earlier.entries + skip.entries,
    at: Math.max(earlier.at, skip.at),
  };
}
