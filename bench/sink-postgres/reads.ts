import { type Backlog, PARTITIONS } from './backlog.ts';

/** Entries per partition stream in one read: the sink shares its batch size over the streams. */
export function perStream(batchSize: number): number {
  return Math.max(1, Math.ceil(batchSize / PARTITIONS));
}

/** The part of the backlog applied before timing: whole reads, as the sink groups them. */
export interface WarmUp {
  /** Reads (one per transaction on the raw side) in the warm-up. */
  groups: number;
  /** Entries per partition stream in the warm-up. */
  perPartition: number;
  events: number;
  /** Last warm-up id per partition (partitions with warm-up entries only). */
  ids: Map<number, string>;
}

export function warmUpOf(backlog: Backlog, batchSize: number, fraction: number): WarmUp {
  const share = perStream(batchSize);
  const reads = Math.max(...backlog.partitions.map((list) => Math.ceil(list.length / share)));
  const groups = Math.floor(reads * fraction);
  const ids = new Map<number, string>();
  let events = 0;
  backlog.partitions.forEach((list, partition) => {
    const n = Math.min(list.length, groups * share);
    events += n;
    if (n > 0) ids.set(partition, list[n - 1]!.id);
  });
  return { groups, perPartition: groups * share, events, ids };
}
