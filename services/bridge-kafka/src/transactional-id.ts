import { partitionId } from '../../../runtime/partition-id.ts';

/**
 * The transactional id of the producer of one source partition: `<prefix>/<sink>/<entity>/<partition>`.
 * Derived, never random, so that whichever instance produces the partition next (a restarted
 * one, or another that took the lease over) initialises the same id, which fences every earlier
 * producer of it and aborts the transaction it left open. Prefix, sink and entity names hold no
 * `/`, so ids of different partitions or deployments never collide.
 */
export function transactionalId(
  prefix: string,
  sink: string,
  entity: string,
  partition: number,
): string {
  return `${prefix}/${sink}/${partitionId(entity, partition)}`;
}
