/** A partition of an entity. */
export interface PartitionRef {
  entity: string;
  partition: number;
}

/**
 * The one name of a partition, `<entity>/<partition>`: the key of a sink's stored offsets, of the
 * runner's owned partitions, of leases and of replay requests. Entity names cannot hold `/`, so
 * the last `/` splits it back.
 */
export function partitionId(entity: string, partition: number): string {
  return `${entity}/${partition}`;
}

/** `partitionId` of a ref. */
export function partitionIdOf(ref: PartitionRef): string {
  return partitionId(ref.entity, ref.partition);
}

/** The partition a `partitionId` names, or undefined for anything else. */
export function parsePartitionId(id: string): PartitionRef | undefined {
  const at = id.lastIndexOf('/');
  if (at <= 0) return undefined;
  const partition = Number(id.slice(at + 1));
  if (!Number.isInteger(partition) || partition < 0 || String(partition) !== id.slice(at + 1))
    return undefined;
  return { entity: id.slice(0, at), partition };
}
