import { consumerGroups } from '../../../runtime/consumer-groups.ts';
import type { Keys } from '../../../runtime/keys.ts';
import { partitionLag } from '../../../runtime/lag.ts';
import { servingNode } from '../../../runtime/monitor/serving-node.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import { ZERO_ID } from '../../../runtime/stream-id.ts';
import { partitionsOf } from './partitions.ts';

/** One row of `cdc lag`'s streams table; the keys are its columns (snake_case in --json). */
export type LagRow = {
  sink: string;
  entity: string;
  partition: number;
  applied: string;
  behind: number | 'unknown';
  pending: number;
  'oldest unapplied (s)': number;
  /**
   * The Redis node serving the partition, `host:port`: on a cluster the master of its slot, on
   * one server that server; `unknown` while a cluster's slot map names none (a failover). Last,
   * so that scripts reading the table's columns by position read the others where they were.
   */
  node: string;
};

/**
 * Entries behind per sink, entity and partition, and the node serving each partition: what
 * `cdc lag` reports (runtime/lag.ts). Every read names one key, so on a cluster each goes to the
 * partition's master by itself.
 */
export async function lagRows(redis: RedisClient, keys: Keys, sink?: string): Promise<LagRow[]> {
  const rows: LagRow[] = [];
  for (const { entity, partition } of (await partitionsOf(redis, keys)) ?? []) {
    const stream = keys.stream(entity, partition);
    for (const group of await consumerGroups(redis, stream)) {
      if (sink && group.name !== sink) continue;
      const applied = (await redis.get(keys.watermark(entity, partition, group.name))) ?? ZERO_ID;
      const lag = await partitionLag(redis, stream, group, applied);
      rows.push({
        sink: group.name,
        entity,
        partition,
        applied,
        behind: lag.behind ?? 'unknown',
        pending: lag.pending,
        'oldest unapplied (s)': Number((lag.oldestUnappliedMs / 1000).toFixed(1)),
        // Read after the partition's own reads: those refreshed the slot map if it had moved.
        node: servingNode(redis, stream) ?? 'unknown',
      });
    }
  }
  return rows;
}
