import type { PartitionRef } from '../../partition-id.ts';
import type { PartitionOffsets } from '../partition-offsets.ts';
import type { PartitionBatch, SinkEvent } from '../sink.ts';
import type { DecodedEntry } from './entry-decoder.ts';

/** Something a plan needs done before its batch is applied, in stream order. */
export type PlanEffect =
  /** The key is quarantined: park the entry in the dead letters behind its failed event. */
  | { kind: 'hold'; entry: DecodedEntry; key: string }
  /** The entry cannot be applied: dead-letter it and quarantine its key. */
  | { kind: 'dead-letter'; entry: DecodedEntry; key: string; error: Error };

/** What to do with one partition's entries of a read. */
export interface BatchPlan {
  readonly ref: PartitionRef;
  /** Every id read (all are acknowledged together once the batch is committed). */
  readonly ids: string[];
  /** The events to apply and the offset to commit with them (the last id read). */
  readonly batch: PartitionBatch;
  /** The entries read: a failed batch's events are found here to dead-letter their fields. */
  readonly entries: readonly DecodedEntry[];
  /** Dead letters and held entries to write first; none for most batches. */
  readonly effects: readonly PlanEffect[];
}

/** What the planner needs to know besides the entries; nothing it reads changes while it runs. */
export interface PlanInput {
  readonly ref: PartitionRef;
  readonly offsets: Pick<PartitionOffsets, 'due' | 'deliveriesOf'>;
  readonly entries: readonly DecodedEntry[];
  /** Keys whose earlier event failed: their later events are held, never applied out of order. */
  readonly quarantined: { has(key: string): boolean };
  /** An entry delivered more often than this is dead-lettered instead of applied. */
  readonly maxDeliveries: number;
}

/** A plan, or the entries that must be decoded first (the planner does no I/O). */
export type PlanResult =
  | { readonly plan: BatchPlan; readonly undecoded?: undefined }
  | { readonly plan?: undefined; readonly undecoded: DecodedEntry[] };

/**
 * Decides, without side effects, what a partition's entries of a read become: entries at or
 * below the committed offset are skipped (so a replay or a redelivery never applies an event
 * twice), a quarantined key's entries are held, an entry that cannot be decoded or was
 * delivered too often is dead-lettered and quarantines its key (so that key's later entries in
 * the same read are held too), and everything else is applied in order.
 */
export function planBatch(input: PlanInput): PlanResult {
  const { ref, offsets, entries, quarantined, maxDeliveries } = input;
  const { ids, due } = offsets.due(entries);
  const undecoded = due.filter((e) => !e.event && !e.error);
  if (undecoded.length > 0) return { undecoded };
  const events: SinkEvent[] = [];
  const effects: PlanEffect[] = [];
  // Keys quarantined by this plan's own dead letters.
  const failed = new Set<string>();
  for (const entry of due) {
    const { id, event } = entry;
    const key = event?.key ?? entry.envelope?.key ?? entry.read.rawKey(entry.index);
    if (quarantined.has(key) || failed.has(key)) {
      effects.push({ kind: 'hold', entry, key });
      continue;
    }
    const deliveries = offsets.deliveriesOf(id);
    const error =
      deliveries > maxDeliveries
        ? new Error(`delivered ${deliveries} times without being applied`)
        : entry.error;
    if (error || !event) {
      effects.push({ kind: 'dead-letter', entry, key, error: error ?? new Error('not decoded') });
      // An entry without a key quarantines nothing: no later entry can be ordered behind it.
      if (key) failed.add(key);
      continue;
    }
    events.push(event);
  }
  const { entity, partition } = ref;
  return {
    plan: {
      ref,
      ids,
      entries,
      effects,
      batch: { entity, partition, events, offset: ids.at(-1)! },
    },
  };
}
