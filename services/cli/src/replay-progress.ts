import { consumerGroups } from '../../../runtime/consumer-groups.ts';
import type { Keys } from '../../../runtime/keys.ts';
import { partitionId } from '../../../runtime/partition-id.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import { ReplayRequests } from '../../../runtime/sink/replay-requests.ts';
import { countEntries } from '../../../runtime/stream-count.ts';
import { compareStreamIds, ZERO_ID } from '../../../runtime/stream-id.ts';

/** One partition of a requested replay, and where it has to get to. */
export interface ReplayTarget {
  entity: string;
  partition: number;
  /** The replay reads again the entries after this id. */
  from: string;
  /** The stream's last id when the replay was requested: caught up once applied up to it. */
  end: string;
  /** Entries between `from` and `end`, which the replay applies again. */
  entries: number;
}

/** How far one partition's replay has got. */
export interface PartitionProgress {
  entity: string;
  partition: number;
  /** Entries up to the target's end not acknowledged yet (applied and committed) by the sink. */
  remaining: number;
  caughtUp: boolean;
}

/**
 * Where a replay stands in each partition, from the sink's consumer group. A partition has
 * caught up once its owner carried out the request (the request is gone from Redis: the offset
 * in the target and the group were moved back) and the group acknowledged every entry up to the
 * end the stream had when the replay was asked for: nothing delivered up to it is pending, and
 * its last delivered entry is at or past it. A sink acknowledges an entry only after its target
 * committed it, so this is the sink's applied position.
 */
export async function replayProgress(
  redis: RedisClient,
  keys: Keys,
  sink: string,
  targets: readonly ReplayTarget[],
): Promise<PartitionProgress[]> {
  const requested = await new ReplayRequests(redis, keys, sink).pending();
  const progress: PartitionProgress[] = [];
  for (const target of targets) {
    const { entity, partition, end } = target;
    const waiting = requested.get(partitionId(entity, partition)) === target.from;
    if (waiting || end === ZERO_ID) {
      progress.push({
        entity,
        partition,
        remaining: waiting ? target.entries : 0,
        caughtUp: !waiting,
      });
      continue;
    }
    const stream = keys.stream(entity, partition);
    const group = (await consumerGroups(redis, stream)).find((g) => g.name === sink);
    if (!group) {
      progress.push({ entity, partition, remaining: target.entries, caughtUp: false });
      continue;
    }
    // Summary form: [count, lowest id, highest id, consumers].
    const [, lowest] =
      group.pending > 0
        ? ((await redis.xpending(stream, sink)) as [number, string | null])
        : [0, null];
    const delivered = compareStreamIds(group.lastDelivered, end) >= 0;
    const pendingBelowEnd = lowest !== null && compareStreamIds(lowest, end) <= 0;
    const caughtUp = delivered && !pendingBelowEnd;
    const remaining = caughtUp
      ? 0
      : Math.min(
          target.entries,
          await countEntries(redis, stream, lowest ?? `(${group.lastDelivered}`, end),
        );
    progress.push({ entity, partition, remaining, caughtUp });
  }
  return progress;
}
