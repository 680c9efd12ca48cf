import type { ChainableCommander } from 'ioredis';
import type { ChangeEvent } from '../../envelope.ts';
import type { PartitionLag } from '../../lag.ts';
import type { PartitionRef } from '../../partition-id.ts';
import type { PartitionOffsets } from '../partition-offsets.ts';

/**
 * Where a sink's events come from. The runner owns partitions (leases), plans, applies, isolates
 * failures and commits offsets in the target; a source only reads the partitions this instance
 * owns, in order, and keeps its own delivery state. The Redis Streams source (consumer groups) is
 * the default; the Kafka source (kafka-source.ts) reads the bridge's topics instead, without
 * touching the planner, failure isolation or acknowledgement.
 *
 * Positions are strings ordered like stream ids (`<ms>-<seq>`, compared by `compareStreamIds`):
 * they are what sinks store as offsets. An event's id (its version, which sinks guard writes
 * with) comes from `SourceRead.envelope`, and need not be its position.
 */
export interface EventSource {
  /**
   * Optional: work the source needs done before entities are discovered (the Kafka source
   * restores the schemas its messages name). Called again at the next discovery until it succeeds.
   */
  start?(): Promise<void>;
  /**
   * Optional: how many partitions the entity has in this source, or undefined while it cannot be
   * read yet (no topic). Without it, the source's partitions are the capture's (the streams).
   */
  partitionCount?(entity: string): Promise<number | undefined>;
  /** Makes these partitions readable by this sink (creates its consumer groups); idempotent. */
  open(partitions: readonly PartitionRef[]): Promise<void>;
  /**
   * Takes a partition over at `committed`, the offset stored in the target: claims what earlier
   * owners left undone, notes how often each of those entries was delivered, and moves the
   * source's position back to `committed` if it is ahead of it (the target was restored, or its
   * offsets dropped), so that the gap is read again. Undefined from a source that checks leases
   * when this instance no longer holds the partition's lease: nothing was claimed.
   */
  take(partition: PartitionRef, committed: string): Promise<Takeover | undefined>;
  /**
   * One batch for these partitions, in order per partition: this consumer's entries delivered
   * and not applied first (from each partition's `offsets.cursor`, moving it on), else new
   * entries, waiting up to the block time for some. Bounded by the batch size over all of them.
   * A source that checks leases as it reads reads nothing of a partition whose lease this
   * instance no longer holds, and names it in `refused`.
   */
  read(partitions: readonly ReadPosition[]): Promise<SourceBatch>;
  /** These entries are applied and committed in the target: never deliver them again. */
  acknowledge(acks: readonly Acknowledgement[]): Promise<void>;
  /**
   * Optional, for a source kept in the runner's own Redis: queues the acknowledgement on a
   * pipeline the runner sends anyway (with the applied watermarks), instead of a round trip of
   * its own. The runner checks each queued command's reply.
   */
  queueAcknowledge?(pipeline: ChainableCommander, acks: readonly Acknowledgement[]): void;
  /**
   * Replay: the partition is read again after `from` (its offset in the target was moved back
   * first). Returns how many entries will be read again, or undefined if the source cannot say.
   */
  rewind(partition: PartitionRef, from: string): Promise<number | undefined>;
  /** How far this sink is behind in a partition, given what it has applied. */
  lag(partition: PartitionRef, applied: string): Promise<PartitionLag | undefined>;
  /**
   * Where the partition is read from, for lag views and metrics: the Redis node (`host:port`)
   * serving it (on a Redis Cluster, its slot's master as the client's slot map has it now).
   */
  location?(partition: PartitionRef): string | undefined;
  /** Closes what the source opened for reading. */
  close(): void;
}

/**
 * The field a source whose positions are not versions (Kafka) adds to an entry's fields, holding
 * the event's version: dead letters keep an entry's fields and its position, and a re-drive
 * needs the version back to guard its writes.
 */
export const VERSION_FIELD = 'cdc.version';

/** The version an entry's fields name in `VERSION_FIELD`, if they name one. */
export function versionInFields(fields: readonly Buffer[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2)
    if (fields[i]!.toString() === VERSION_FIELD) return fields[i + 1]!.toString();
  return undefined;
}

/** A partition to read and where: its offsets hold the cursor. */
export interface ReadPosition {
  readonly ref: PartitionRef;
  readonly offsets: PartitionOffsets;
}

/** What one read returned. */
export interface SourceBatch {
  /** Per partition with entries (or, for a read of pending entries, without), in order. */
  readonly reads: SourceRead[];
  /**
   * Partitions not read because this instance no longer holds their leases (another instance
   * took them while this one was paused, say): nothing of them was delivered to it.
   */
  readonly refused: readonly PartitionRef[];
}

/** What taking a partition over found. */
export interface Takeover {
  /** Delivery counts of the entries earlier owners left delivered and not acknowledged. */
  deliveries: Map<string, number>;
  /** How many such entries were claimed. */
  reclaimed: number;
}

/** Entries of one partition to acknowledge. */
export interface Acknowledgement {
  readonly ref: PartitionRef;
  readonly ids: readonly string[];
}

/**
 * What one read returned for one partition: entries in order, left where they lie in the read
 * (decoding a field list into objects per entry is what made reads expensive), looked at by index.
 */
export interface SourceRead {
  readonly ref: PartitionRef;
  /** Positions, in order. */
  readonly ids: readonly string[];
  /** Whether entry `index` was deleted from the source after it was delivered (no fields). */
  deleted(index: number): boolean;
  /** The change event of entry `index`; throws EnvelopeError for a malformed entry. */
  envelope(index: number): ChangeEvent;
  /** The entry's fields as read (views of the read's bytes), for dead letters; empty if deleted. */
  fields(index: number): Buffer[];
  /** The entry's key when its envelope cannot be decoded, if it has one ('' otherwise). */
  rawKey(index: number): string;
}
