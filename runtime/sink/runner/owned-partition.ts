import type { PartitionRef } from '../../partition-id.ts';
import type { QuarantineState } from '../dead-letters.ts';
import type { PartitionOffsets } from '../partition-offsets.ts';

/** A partition this instance holds the lease of, and what it knows of it. */
export interface OwnedPartition {
  readonly ref: PartitionRef;
  /** `partitionId(entity, partition)`. */
  readonly id: string;
  readonly offsets: PartitionOffsets;
  /** Keys held behind a failed event, re-read from Redis between batches. */
  quarantined: Map<string, QuarantineState>;
}
