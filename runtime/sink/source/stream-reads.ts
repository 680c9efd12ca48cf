import type { PartitionRef } from '../../partition-id.ts';
import type { ReadPosition, SourceBatch } from './event-source.ts';

/** What a way of reading the partition streams needs to know of the sink. */
export interface StreamReadsContext {
  /** The consumer group: the sink's name. */
  readonly group: string;
  /** This instance's consumer name, and the value of the leases it holds. */
  readonly consumer: string;
  /** Most entries per read, over all the partitions read. */
  readonly batchSize: number;
  /** How long a read of new entries waits for some, ms. */
  readonly blockMs: number;
  stream(ref: PartitionRef): string;
  lease(ref: PartitionRef): string;
}

/**
 * Lease-checked reads of the owned partition streams through the consumer group: on one server
 * over one connection (`ServerStreamReads`), on a Redis Cluster over a connection per partition
 * to its slot's master (`ClusterStreamReads`).
 */
export interface StreamReads {
  /**
   * The pending entries of partitions behind (from their cursors), else new entries, waiting
   * up to the block time for some when there are none. Partitions whose lease is not this
   * instance's are refused, with nothing read.
   */
  read(partitions: readonly ReadPosition[]): Promise<SourceBatch>;
  /** The group of this partition moved (a takeover, a replay): a wait from where it was ends. */
  moved(ref: PartitionRef): void;
  close(): void;
}

/** How much longer than its block time a read may take before its connection counts as dead. */
export const READ_TIMEOUT_MARGIN_MS = 30_000;

/** XREADGROUP's id for entries never delivered to the group. */
export const NEW_ENTRIES = '>';

/** Entries per partition of one read: `batchSize` bounds a whole batch, shared out. */
export function countPerPartition(batchSize: number, partitions: number): number {
  return Math.max(1, Math.ceil(batchSize / Math.max(1, partitions)));
}
