import type { Redis } from 'ioredis';
import { consumerGroups } from '../../../runtime/consumer-groups.ts';
import type { Keys } from '../../../runtime/keys.ts';
import { partitionLag } from '../../../runtime/lag.ts';
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
};

/** Entries behind per sink, entity and partition: what `cdc lag` reports (runtime/lag.ts). */
export async function lagRows(redis: Redis, keys: Keys, sink?: string): Promise<LagRow[]> {
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
      });
    }
  }
  return rows;
}
