import type { Message } from 'kafkajs';
import type { BatchWrite } from '../../runtime/capture/capture.ts';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import { kafkaChangeRecord } from '../../runtime/kafka/kafka-message.ts';
import { KeyPlacement } from '../../services/bridge-kafka/src/key-placement.ts';
import { seeded } from '../support/numbers.ts';
import { benchTodo } from '../support/todo-record.ts';
import { type BenchRun, ENTITY } from './bench-run.ts';

/** Writes per capture.writeMany call when loading the backlog. */
const PRELOAD_BATCH = 1000;
/** Every DELETE_EVERY-th change is a delete (a tombstone in Kafka). */
const DELETE_EVERY = 20;

/** The backlog in Redis, and the records the bridge makes of it, grouped as it commits them. */
export interface Backlog {
  /** Last stream id of every partition. */
  heads: string[];
  /**
   * The bridge's records, one entry per apply (one read of every partition): per partition, the
   * records of its transaction, with the Kafka partition the bridge puts each in.
   */
  applies: Message[][][];
}

/**
 * Writes `events` changes of `todo` over `keys` keys (seeded, every 20th a delete), then reads the
 * streams back and encodes every event as the bridge does (same key, value, headers and Kafka
 * partition), grouped as the runner hands them over: each read takes ceil(batch / partitions)
 * entries of every partition.
 */
export async function loadBacklog(run: BenchRun): Promise<Backlog> {
  const { events, keys, partitions, batch } = run.options;
  const random = seeded(0x5eed);
  for (let from = 0; from < events; from += PRELOAD_BATCH) {
    const writes: BatchWrite[] = [];
    for (let i = from; i < Math.min(events, from + PRELOAD_BATCH); i++) {
      const key = Math.floor(random() * keys);
      writes.push(
        i % DELETE_EVERY === DELETE_EVERY - 1
          ? { op: 'delete', key: `todo-${key}` }
          : { op: 'upsert', record: benchTodo(i, key) },
      );
    }
    await run.capture.writeMany(ENTITY, writes);
  }
  const placement = new KeyPlacement();
  const perRead = Math.max(1, Math.ceil(batch / partitions));
  const streams: Message[][] = [];
  const heads: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const entries = await run.redis.xrangeBuffer(run.capture.keys.stream(ENTITY, p), '-', '+');
    heads.push(entries.at(-1)?.[0].toString() ?? '');
    streams.push(
      entries.map(([id, fields]) => {
        const event = decodeEnvelope(id.toString(), fields);
        const { key, value, headers } = kafkaChangeRecord(event, p);
        return { key, value, headers, partition: placement.partitionOf('', partitions, event.key) };
      }),
    );
  }
  const applies: Message[][][] = [];
  const reads = Math.max(...streams.map((s) => Math.ceil(s.length / perRead)));
  for (let r = 0; r < reads; r++)
    applies.push(
      streams
        .map((s) => s.slice(r * perRead, (r + 1) * perRead))
        .filter((transaction) => transaction.length > 0),
    );
  return { heads, applies };
}
