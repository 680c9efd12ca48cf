import kafkajs, { type PartitionMetadata } from 'kafkajs';

/**
 * The Kafka partition of an entity key: murmur2 of the key modulo the topic's configured
 * partition count, as the Java client's (and kafkajs') default partitioner computes it, so any
 * Kafka client agrees where a key lives. The bridge sets it on every record itself rather than
 * leaving it to the producer: it then knows how many records each partition got (the produced
 * offsets it reports), and a topic given more partitions later does not move keys away from
 * their earlier records.
 */
export class KeyPlacement {
  // kafkajs' default partitioner, fed the partition count alone: keyed records never look at
  // leaders or availability.
  private readonly partitioner = kafkajs.Partitioners.DefaultPartitioner();
  private readonly metadata = new Map<number, PartitionMetadata[]>();
  /**
   * Partitions of keys seen, per partition count: keys repeat (every change of an entity), and
   * hashing each record's key was a twentieth of the bridge's CPU. Bounded: emptied when full.
   */
  private readonly placed = new Map<number, Map<string, number>>();
  private static readonly MAX_CACHED = 100_000;

  partitionOf(topic: string, partitions: number, key: string): number {
    let byKey = this.placed.get(partitions);
    if (!byKey) {
      byKey = new Map();
      this.placed.set(partitions, byKey);
    }
    let partition = byKey.get(key);
    if (partition === undefined) {
      partition = this.partitioner({
        topic,
        partitionMetadata: this.metadataOf(partitions),
        message: { key: Buffer.from(key), value: null },
      });
      if (byKey.size >= KeyPlacement.MAX_CACHED) byKey.clear();
      byKey.set(key, partition);
    }
    return partition;
  }

  private metadataOf(partitions: number): PartitionMetadata[] {
    let metadata = this.metadata.get(partitions);
    if (!metadata) {
      metadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [],
        isr: [],
        offlineReplicas: [],
      }));
      this.metadata.set(partitions, metadata);
    }
    return metadata;
  }
}
