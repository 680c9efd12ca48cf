import type { Redis } from 'ioredis';
import { consumerGroups } from '../../runtime/consumer-groups.ts';
import type { Keys } from '../../runtime/keys.ts';
import { partitionLag } from '../../runtime/lag.ts';
import { ZERO_ID } from '../../runtime/stream-id.ts';

/** One sink's lag at one moment, over all partitions of the entity. */
export interface LagSample {
  /** ms since the load started (negative before, larger than its length after). */
  atMs: number;
  /** Entries not applied yet, all partitions; undefined when Redis cannot tell for one of them. */
  behind: number | undefined;
  /** Age of the oldest entry not applied yet, over the partitions, ms. */
  oldestUnappliedMs: number;
}

/**
 * Reads what `cdc lag` reads (runtime/lag.ts: the group's lag and pending entries, the sink's
 * watermark, the oldest entry above it) for each sink, summed over the partitions.
 */
export class LagSampler {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly entity: string,
    private readonly partitions: number,
  ) {}

  async sample(sink: string, atMs: number): Promise<LagSample> {
    let behind: number | undefined = 0;
    let oldestUnappliedMs = 0;
    for (let partition = 0; partition < this.partitions; partition++) {
      const stream = this.keys.stream(this.entity, partition);
      const group = (await consumerGroups(this.redis, stream)).find((g) => g.name === sink);
      if (group === undefined) return { atMs, behind: undefined, oldestUnappliedMs: 0 };
      const watermark = this.keys.watermark(this.entity, partition, sink);
      const applied = (await this.redis.get(watermark)) ?? ZERO_ID;
      const lag = await partitionLag(this.redis, stream, group, applied);
      behind = behind === undefined || lag.behind === undefined ? undefined : behind + lag.behind;
      oldestUnappliedMs = Math.max(oldestUnappliedMs, lag.oldestUnappliedMs);
    }
    return { atMs, behind, oldestUnappliedMs };
  }
}
