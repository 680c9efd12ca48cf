/**
 * Thrown inside the runner when a batch being retried belongs to a partition this instance no
 * longer owns (its lease expired and another instance took it): the batch is dropped, its
 * entries stay pending for the new owner, and the loop goes on with the partitions it still
 * owns. Retrying it would apply a lost partition's events late (or, for a sink whose target
 * fences former owners, such as the Kafka bridge, forever).
 */
export class PartitionLost extends Error {
  constructor(readonly partitions: readonly string[]) {
    super(`partitions lost while their batch was retried: ${partitions.join(', ')}`);
    this.name = 'PartitionLost';
  }
}
