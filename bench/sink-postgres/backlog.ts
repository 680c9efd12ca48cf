import type { BatchWrite, Capture } from '../../runtime/capture/capture.ts';
import { prepareRecord } from '../../runtime/schema/prepare-record.ts';
import { seeded } from '../support/numbers.ts';
import { benchTodo } from '../support/todo-record.ts';

/** The entity every run writes and drains (schemas/todo.avsc). */
export const ENTITY = 'todo';
/** Partition streams of the entity. */
export const PARTITIONS = 4;
/** Writes per capture.writeMany call when pre-loading the backlog. */
const PRELOAD_BATCH = 1000;

/** One pre-loaded event as the sink will see it: decoded record, key and stream id. */
export interface LoadedEvent {
  key: string;
  id: string;
  record: Record<string, unknown>;
  /** The Avro binary capture appended (what the PostgreSQL sink transcodes). */
  payload: Buffer;
}

export interface Backlog {
  /** Events per partition, in stream order. */
  partitions: LoadedEvent[][];
  /** Last stream id per partition. */
  lastIds: Map<number, string>;
  /** capture.writeMany rate while loading, events/s (for orientation only). */
  loadRate: number;
}

/**
 * Writes the backlog with capture.writeMany and keeps, for the raw baseline, each record exactly
 * as the sink decodes it (Avro round trip with the registered schema) with its stream id.
 */
export async function preload(capture: Capture, events: number, keys: number): Promise<Backlog> {
  const { type } = capture.schemaOf(ENTITY);
  const random = seeded(0x5eed);
  const partitions: LoadedEvent[][] = Array.from({ length: PARTITIONS }, () => []);
  let busyMs = 0;
  for (let from = 0; from < events; from += PRELOAD_BATCH) {
    const records: Record<string, unknown>[] = [];
    for (let i = from; i < Math.min(events, from + PRELOAD_BATCH); i++)
      records.push(benchTodo(i, Math.floor(random() * keys)));
    const writes: BatchWrite[] = records.map((record) => ({ op: 'upsert', record }));
    const started = performance.now();
    const results = await capture.writeMany(ENTITY, writes);
    busyMs += performance.now() - started;
    results.forEach((result, i) => {
      const payload = type.toBuffer(prepareRecord(ENTITY, type, records[i]));
      partitions[result.partition]!.push({
        key: result.key,
        id: result.id,
        record: { ...(type.fromBuffer(payload) as object) },
        payload,
      });
    });
  }
  const lastIds = new Map<number, string>();
  partitions.forEach((list, p) => {
    if (list.length > 0) lastIds.set(p, list.at(-1)!.id);
  });
  return { partitions, lastIds, loadRate: events / (busyMs / 1000) };
}
