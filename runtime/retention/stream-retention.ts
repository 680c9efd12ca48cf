import type { Redis } from 'ioredis';
import { consumerGroups } from '../consumer-groups.ts';
import type { Keys } from '../keys.ts';
import { partitionId } from '../partition-id.ts';
import { countEntries } from '../stream-count.ts';
import { compareStreamIds, ZERO_ID } from '../stream-id.ts';
import { type GroupPosition, type TrimBound, trimBound } from './trim-bound.ts';

/** A partition stream's retention: what may go, and (once trimmed) what went. */
export interface PartitionTrim {
  entity: string;
  partition: number;
  stream: string;
  /** Entries in the stream before trimming. */
  length: number;
  groups: GroupPosition[];
  /** Undefined when the stream has no consumer group (then nothing is trimmed). */
  bound?: TrimBound;
  /** Entries below the bound: what a trim removes. */
  removable: number;
  /** The minimum age and the time the plan was made with, to check it again before trimming. */
  minAgeMs: number;
  at: number;
}

/**
 * Safe retention for the partition streams. A stream is trimmed (XTRIM MINID) only below what
 * every consumer group still needs and every sink has applied, and never within the minimum age
 * (see trimBound). Positions only move forward between planning and trimming (a sink that moves
 * its group back goes to its committed offset, at or above its applied watermark), but an
 * operator may ask for a replay meanwhile: the bound is computed again just before trimming and
 * the lower one is used.
 */
export class StreamRetention {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async plan(
    entity: string,
    partition: number,
    minAgeMs: number,
    now = Date.now(),
  ): Promise<PartitionTrim> {
    const stream = this.keys.stream(entity, partition);
    const groups = await this.groups(entity, partition, stream);
    const bound = trimBound(groups, minAgeMs, now);
    const length = await this.redis.xlen(stream);
    const removable = bound ? await this.countBelow(stream, bound.minId) : 0;
    return { entity, partition, stream, length, groups, bound, removable, minAgeMs, at: now };
  }

  /** Carries a plan out; returns the entries removed. */
  async trim(plan: PartitionTrim): Promise<number> {
    if (!plan.bound || plan.removable === 0) return 0;
    const groups = await this.groups(plan.entity, plan.partition, plan.stream);
    const again = trimBound(groups, plan.minAgeMs, plan.at);
    if (!again) return 0;
    const minId =
      compareStreamIds(again.minId, plan.bound.minId) < 0 ? again.minId : plan.bound.minId;
    return this.redis.xtrim(plan.stream, 'MINID', minId);
  }

  private async groups(entity: string, partition: number, stream: string) {
    const groups: GroupPosition[] = [];
    for (const { name, lastDelivered, pending } of await consumerGroups(this.redis, stream)) {
      // Summary form: [count, lowest id, highest id, consumers].
      const [, lowest] = (await this.redis.xpending(stream, name)) as [number, string | null];
      const applied = await this.redis.get(this.keys.watermark(entity, partition, name));
      const replayFrom = await this.redis.hget(
        this.keys.replayRequests(name),
        partitionId(entity, partition),
      );
      groups.push({
        name,
        lastDelivered,
        ...(pending > 0 && lowest ? { lowestPending: lowest } : {}),
        ...(applied ? { applied } : {}),
        ...(replayFrom ? { replayFrom } : {}),
      });
    }
    return groups;
  }

  private async countBelow(stream: string, minId: string): Promise<number> {
    // Nothing is below the first possible id (and Redis refuses "(0-0" as an end).
    if (minId === ZERO_ID) return 0;
    return countEntries(this.redis, stream, '-', `(${minId}`);
  }
}
