import type { ConsumerGroupInfo } from './consumer-groups.ts';
import type { RedisClient } from './redis-client.ts';
import { streamIdTime } from './stream-id.ts';

/** How far a sink is behind in one partition. */
export interface PartitionLag {
  /** The position the sink has applied up to (its committed offset or watermark). */
  applied: string;
  /**
   * Entries the sink has not applied: not yet delivered to its group, plus delivered and not
   * acknowledged. Undefined when Redis cannot tell: a group moved with XGROUP SETID without
   * ENTRIESREAD has no known lag until it reaches the end of the stream again. Unknown is never
   * shown as 0: the command line prints `unknown`, the metric is NaN, a check fails.
   */
  behind: number | undefined;
  /** Entries delivered to the group and not acknowledged. */
  pending: number;
  /** Age of the oldest entry above `applied`, ms (its stream id's time); 0 when there is none. */
  oldestUnappliedMs: number;
}

/**
 * The lag of one consumer group on one partition stream, given what its sink has applied: the
 * one computation behind `cdc lag` and the sinks' lag metrics.
 */
export async function partitionLag(
  redis: RedisClient,
  stream: string,
  group: ConsumerGroupInfo,
  applied: string,
  now: number = Date.now(),
): Promise<PartitionLag> {
  const next = await redis.xrange(stream, `(${applied}`, '+', 'COUNT', 1);
  return {
    applied,
    behind: entriesBehind(group),
    pending: group.pending,
    oldestUnappliedMs: next[0] ? Math.max(0, now - streamIdTime(next[0][0])) : 0,
  };
}

/** Undelivered plus pending entries of a group, or undefined when Redis does not know. */
export function entriesBehind(group: ConsumerGroupInfo): number | undefined {
  return group.lag === undefined ? undefined : group.lag + group.pending;
}
