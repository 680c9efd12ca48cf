import { consumerGroups } from '../consumer-groups.ts';
import type { Keys } from '../keys.ts';
import { partitionId } from '../partition-id.ts';
import type { RedisClient } from '../redis-client.ts';
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
  /** Entries below the bound: what a trim removes (0 when the plan was made without counting). */
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
 *
 * Reads and trim are separate commands, not one script, on one server as on a Redis Cluster:
 * what decides the bound spans two slots there (the partition's stream, watermarks and groups
 * under `{<entity>:<p>}`, the sink's replay requests under `{sink:<name>}`), and a script may
 * touch one slot only. What the recheck leaves open, a replay asked between it and the XTRIM,
 * is covered by the minimum age: the bound is never newer than it, so such a replay loses
 * nothing younger than the minimum age, as a replay asked just after a trim would.
 */
export class StreamRetention {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /**
   * What may go of a partition stream now. `count: false` leaves `removable` at 0: counting
   * pages through every removable entry, which a trimmer that runs every few seconds skips (XTRIM
   * tells what it removed).
   */
  async plan(
    entity: string,
    partition: number,
    minAgeMs: number,
    now = Date.now(),
    { count = true }: { count?: boolean } = {},
  ): Promise<PartitionTrim> {
    const stream = this.keys.stream(entity, partition);
    const groups = await this.groups(entity, partition, stream);
    const bound = trimBound(groups, minAgeMs, now);
    const length = await this.redis.xlen(stream);
    const removable = bound && count ? await this.countBelow(stream, bound.minId) : 0;
    return { entity, partition, stream, length, groups, bound, removable, minAgeMs, at: now };
  }

  /** Carries a plan out; returns the entries removed. */
  async trim(plan: PartitionTrim): Promise<number> {
    if (!plan.bound || plan.removable === 0) return 0;
    const minId = await this.recheck(plan, plan.bound.minId);
    return minId ? this.trimBelow(plan.stream, minId) : 0;
  }

  /**
   * The bound to trim to now: `minId` (the plan's bound, or one a retention policy lowered or,
   * past the groups named in `past`, raised), lowered to what the groups need now, `past`
   * excepted. Undefined when the stream has no group left to decide by.
   */
  async recheck(
    plan: PartitionTrim,
    minId: string,
    past: readonly string[] = [],
  ): Promise<string | undefined> {
    const groups = (await this.groups(plan.entity, plan.partition, plan.stream)).filter(
      (g) => !past.includes(g.name),
    );
    // Every group trimmed past: only the minimum age still bounds the trim.
    const again =
      groups.length === 0 && past.length > 0
        ? { minId: `${Math.max(0, plan.at - plan.minAgeMs)}-0` }
        : trimBound(groups, plan.minAgeMs, plan.at);
    if (!again) return undefined;
    return compareStreamIds(again.minId, minId) < 0 ? again.minId : minId;
  }

  /** XTRIM MINID: removes the entries below `minId`; returns how many went. */
  trimBelow(stream: string, minId: string): Promise<number> {
    return this.redis.xtrim(stream, 'MINID', minId);
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
