import { partitionId } from '../partition-id.ts';
import type { RegisteredSchema } from '../schema/schema-registry.ts';

/**
 * The interface a database sink implements. Everything else (consumer groups, partition
 * ownership, decoding, retries, dead letters, quarantine, watermarks, metrics, shutdown) is the
 * runtime's. See ARCHITECTURE.md for a worked example.
 */
export interface Sink {
  /** Names the consumer group, the watermarks and the offsets of this sink. */
  readonly name: string;
  /** Opens connections. Called once before anything else. */
  connect(): Promise<void>;
  /**
   * Creates or evolves the targets (tables, collections, indexes) for these entities. Called at
   * start and again whenever an event arrives written with a schema newer than the one known.
   * Must only add, never drop.
   */
  ensureTargets(targets: readonly EntityTarget[]): Promise<void>;
  /** The offsets committed in the target, keyed by `offsetKey(entity, partition)`. */
  readOffsets(): Promise<Map<string, string>>;
  /**
   * Applies the batches and records each batch's `offset` — atomically where the database has
   * transactions, idempotently otherwise: applying any suffix of the stream again must converge
   * to the same state. Events within a partition batch are in stream order.
   */
  apply(batches: readonly PartitionBatch[]): Promise<void>;
  /**
   * Optional: the CPU part of `apply` done ahead, while the batch before is still being applied
   * (the database works then and this process would wait). Returns what applies exactly these
   * batches later, as `apply` would, and may be called again to retry; or undefined when it
   * cannot be prepared ahead, and then `apply` is called. Must not do I/O or change state: the
   * runtime throws a preparation away whenever something it depends on changed meanwhile.
   */
  prepare?(batches: readonly PartitionBatch[]): PreparedApply | undefined;
  /**
   * True when `apply` reads the events' `payload` and `writer` itself (transcoding them straight
   * into the database's format) instead of `record`. The runtime then leaves `record` undecoded
   * until something reads it, and a payload that cannot be decoded surfaces as a PayloadError
   * thrown by `apply`, which the runtime isolates to its event like any permanent error.
   * Otherwise the runtime decodes every record ahead and dead-letters undecodable ones itself.
   */
  readonly readsPayloads?: boolean;
  /**
   * Optional, for replays (`cdc replay`): sets the offset stored for one partition back to `id`
   * (`0-0`: nothing consumed), unconditionally, where `apply` only ever moves offsets forward. The
   * runtime calls it holding the partition and with no apply in flight, then reads the stream
   * again from there; applying the events again must converge (version guards), as for any
   * replay. A sink without it cannot be replayed from the command line.
   */
  rewindOffset?(entity: string, partition: number, id: string): Promise<void>;
  /**
   * Whether an error thrown by `apply` may go away by itself (connection, timeout, contention).
   * Asked only about errors the runtime cannot classify itself: a runtime error says itself
   * (`CdcError.retriable`), and a programming error (`TypeError`, `RangeError`, …) is permanent
   * whatever this answers (runtime/sink/runner/error-policy.ts).
   */
  isTransient(error: unknown): boolean;
  /** Closes connections. */
  close(): Promise<void>;
}

/** A batch's apply with its CPU work done (see Sink.prepare). */
export type PreparedApply = () => Promise<void>;

/** An entity the sink writes, with the schema its records are decoded with. */
export interface EntityTarget {
  entity: string;
  /** The reader schema (the latest registered version when the target was ensured). */
  schema: RegisteredSchema;
  /** Record field holding the entity key. */
  keyField: string;
}

/** One change, decoded with the target's reader schema. */
export interface SinkEvent {
  /**
   * The event's version, which sinks guard writes with: the id of its entry in the partition
   * stream it was captured into, wherever it is read from.
   */
  id: string;
  /**
   * Where the event lies in the partition it was read from, ordered like stream ids: what a
   * batch's `offset` is made of and what offsets are compared with (see `positionOf`). The
   * runtime always sets it. Read from the partition streams it is `id` itself; read from
   * another source (Kafka: `<next offset>-0`) it is not, and a sink that fences events by its
   * stored offsets must compare their positions, not their versions.
   */
  readonly position?: string;
  op: 'upsert' | 'delete';
  entity: string;
  key: string;
  /**
   * The whole record decoded with the reader schema, for upserts. May be decoded on first access,
   * which throws PayloadError for a payload that cannot be decoded.
   */
  readonly record: Record<string, unknown> | undefined;
  /** For upserts: the Avro binary as captured, written with `writer`. */
  readonly payload?: Buffer | undefined;
  /** For upserts: the schema the payload was written with. */
  readonly writer?: RegisteredSchema | undefined;
  /** Capture time, ms since the epoch. */
  capturedAt: number;
}

/** Where an event lies in the partition it was read from: its `position`, else its `id`. */
export function positionOf(event: SinkEvent): string {
  return event.position ?? event.id;
}

/** The events of one partition to apply together, and the offset to record with them. */
export interface PartitionBatch {
  entity: string;
  partition: number;
  /** In the order read. May be empty when only the offset moves (skipped or parked entries). */
  events: SinkEvent[];
  /**
   * The position the sink has consumed up to once this batch is applied (inclusive): the last
   * event's position, or beyond it. A stream id when reading the partition streams.
   */
  offset: string;
  /**
   * True for dead letters an operator re-drives: their events are at or below the committed
   * offset on purpose and must be applied anyway (version guards still hold); the offset is the
   * committed one and does not move.
   */
  redrive?: boolean;
}

/** Key of `readOffsets()`'s map: the partition's one id (`runtime/partition-id.ts`). */
export const offsetKey: (entity: string, partition: number) => string = partitionId;
