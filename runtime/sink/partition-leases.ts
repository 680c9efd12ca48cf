import { defineCommands } from '../commands/index.ts';
import type { Keys } from '../keys.ts';
import { fnv1a32 } from '../partition.ts';
import { type PartitionRef, partitionIdOf } from '../partition-id.ts';
import type { RedisClient } from '../redis-client.ts';

export type { PartitionRef } from '../partition-id.ts';

/**
 * Partition ownership among the instances of one sink. Each partition is applied by exactly one
 * instance at a time (a lease with a TTL, renewed by its holder), which keeps a partition's
 * events in order and makes its committed offset a true low-water mark. Instances announce
 * themselves in a members set with a heartbeat; each takes at most its fair share
 * (ceil(partitions / live instances)) and gives extras back, so partitions rebalance when an
 * instance joins, and are taken over when one dies and its leases expire.
 */
export class PartitionLeases {
  private readonly owned = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly sink: string,
    private readonly consumer: string,
    private readonly leaseMs: number,
  ) {
    defineCommands(redis);
  }

  isOwned(ref: PartitionRef): boolean {
    return this.owned.has(partitionIdOf(ref));
  }

  /**
   * One heartbeat: renews held leases, then acquires or releases partitions to reach the fair
   * share. Returns what changed; the caller starts or stops work on those partitions.
   */
  async heartbeat(
    all: readonly PartitionRef[],
  ): Promise<{ acquired: PartitionRef[]; lost: PartitionRef[]; surplus: PartitionRef[] }> {
    const now = Date.now();
    const members = this.keys.sinkMembers(this.sink);
    const [, , count] = (await this.redis
      .multi()
      .zadd(members, now + this.leaseMs, this.consumer)
      .zremrangebyscore(members, '-inf', now)
      .zcard(members)
      .set(this.keys.sinkHeartbeat(this.sink, this.consumer), String(now), 'PX', this.leaseMs)
      .exec()) as Array<[Error | null, number]>;
    const live = Math.max(1, count?.[1] ?? 1);
    const share = Math.ceil(all.length / live);

    const lost: PartitionRef[] = [];
    for (const ref of all) {
      if (!this.owned.has(partitionIdOf(ref))) continue;
      const renewed = await this.redis.renewLease(
        this.keys.lease(ref.entity, ref.partition, this.sink),
        this.consumer,
        this.leaseMs,
      );
      if (renewed !== 1) {
        this.owned.delete(partitionIdOf(ref));
        lost.push(ref);
      }
    }

    const acquired: PartitionRef[] = [];
    // Start at an offset that differs per instance, so instances do not all race for partition 0.
    const start = fnv1a32(this.consumer) % Math.max(1, all.length);
    for (let i = 0; i < all.length && this.owned.size < share; i++) {
      const ref = all[(start + i) % all.length]!;
      if (this.owned.has(partitionIdOf(ref))) continue;
      const ok = await this.redis.set(
        this.keys.lease(ref.entity, ref.partition, this.sink),
        this.consumer,
        'PX',
        this.leaseMs,
        'NX',
      );
      if (ok === 'OK') {
        this.owned.add(partitionIdOf(ref));
        acquired.push(ref);
      }
    }

    const surplus: PartitionRef[] = [];
    if (this.owned.size > share) {
      for (const ref of all) {
        if (this.owned.size - surplus.length <= share) break;
        if (this.owned.has(partitionIdOf(ref))) surplus.push(ref);
      }
    }
    return { acquired, lost, surplus };
  }

  /** Gives a partition back (after its in-flight batch is done). */
  async release(ref: PartitionRef): Promise<void> {
    this.owned.delete(partitionIdOf(ref));
    await this.redis.releaseLease(
      this.keys.lease(ref.entity, ref.partition, this.sink),
      this.consumer,
    );
  }

  /** Releases everything and leaves the members set: a clean shutdown hands partitions over at once. */
  async releaseAll(all: readonly PartitionRef[]): Promise<void> {
    for (const ref of all) if (this.owned.has(partitionIdOf(ref))) await this.release(ref);
    await this.redis
      .multi()
      .zrem(this.keys.sinkMembers(this.sink), this.consumer)
      .del(this.keys.sinkHeartbeat(this.sink, this.consumer))
      .exec();
  }
}
