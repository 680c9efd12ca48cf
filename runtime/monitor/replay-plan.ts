import { EntityMetadataStore } from '../capture/entity-metadata.ts';
import { consumerGroups } from '../consumer-groups.ts';
import type { Keys } from '../keys.ts';
import type { RedisClient } from '../redis-client.ts';
import { ReplayRequests } from '../sink/replay-requests.ts';
import { countEntries } from '../stream-count.ts';
import { ZERO_ID } from '../stream-id.ts';

/** Where a replay starts, as `cdc replay` takes it. */
export type ReplayStart =
  | { from: 'start' }
  | { from: 'time'; ms: number }
  /** A stream id, inclusive. */
  | { from: 'offset'; id: string };

/** One partition a replay reads again. */
export interface ReplayPlanRow {
  entity: string;
  partition: number;
  /** Entries after this id are read again. */
  after: string;
  entries: number;
}

/**
 * Plans, and unless `dryRun` asks for, a replay of a sink that reads the partition streams: the
 * same requests `cdc replay` makes (ReplayRequests, carried out by the owner of each partition
 * between two batches), over the partitions where the sink has a consumer group. Empty when it
 * has none (an unknown sink, or one reading Kafka, which `cdc replay` handles).
 */
export async function planReplay(
  redis: RedisClient,
  keys: Keys,
  request: { sink: string; entity?: string; start: ReplayStart; dryRun: boolean },
): Promise<ReplayPlanRow[]> {
  const { start } = request;
  // Entries after this one are read again ("(" makes an XREVRANGE end exclusive).
  const before =
    start.from === 'time' ? `(${start.ms}-0` : start.from === 'offset' ? `(${start.id}` : undefined;
  const requests = new ReplayRequests(redis, keys, request.sink);
  const rows: ReplayPlanRow[] = [];
  for (const [entity, meta] of await new EntityMetadataStore(redis, keys).all()) {
    if (request.entity !== undefined && entity !== request.entity) continue;
    for (let partition = 0; partition < meta.partitions; partition++) {
      const stream = keys.stream(entity, partition);
      if (!(await consumerGroups(redis, stream)).some((g) => g.name === request.sink)) continue;
      const [previous] = before ? await redis.xrevrange(stream, before, '-', 'COUNT', 1) : [];
      const after = previous?.[0] ?? ZERO_ID;
      const entries = await countEntries(redis, stream, `(${after}`, '+');
      if (!request.dryRun) await requests.request(entity, partition, after);
      rows.push({ entity, partition, after, entries });
    }
  }
  return rows;
}
