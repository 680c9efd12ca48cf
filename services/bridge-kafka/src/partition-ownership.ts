import type { Keys } from '../../../runtime/keys.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';

/**
 * Whether this instance holds the lease of a source partition right now. The bridge asks before
 * it starts any producer, because starting one fences every other producer of the partition:
 * only the lease holder may do that.
 */
export type PartitionOwnership = (entity: string, partition: number) => Promise<boolean>;

/**
 * Ownership read from the runner's lease in Redis (runtime/sink/partition-leases.ts): the
 * partition's lease key holds the consumer name of its owner.
 */
export function leaseOwnership(
  redis: RedisClient,
  keys: Keys,
  sink: string,
  consumer: string,
): PartitionOwnership {
  return async (entity, partition) =>
    (await redis.get(keys.lease(entity, partition, sink))) === consumer;
}
