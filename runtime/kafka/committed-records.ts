import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { KafkaReadError } from '../errors/kafka-read-error.ts';
import { assertReadCommittedFilterFixed } from './read-committed-check.ts';

/** A span of one topic partition's offsets, `from` inclusive, `to` exclusive. */
export interface OffsetRange {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

/** What a read_committed consumer finds in a range. */
export interface CommittedRecords {
  /** Committed records (transaction markers and aborted records are not records to it). */
  records: number;
  /** Offset of the last of them; undefined when there is none. */
  last: bigint | undefined;
}

/**
 * Reads these ranges with read_committed and says, per range (by index), how many records a
 * consumer gets there and the offset of the last one. Offsets and records differ on a
 * transactional topic: every transaction leaves a marker taking an offset in each partition it
 * wrote, and an aborted one leaves its records too, so a sink that applied everything still
 * stands one offset or more below the end. Only reading tells them apart: no admin request
 * counts records.
 *
 * A range that is not read to its end within `timeoutMs` is undefined (unknown, not zero).
 * Throws KafkaReadError when the consumer cannot join or crashes.
 */
export async function readCommittedRanges(
  kafka: Kafka,
  ranges: readonly OffsetRange[],
  timeoutMs: number,
): Promise<Array<CommittedRecords | undefined>> {
  // Reads start in the middle of partitions: kafkajs' filter must drop every aborted record.
  assertReadCommittedFilterFixed();
  // Per topic partition, the span covering every range on it and the committed offsets found.
  const spans = new Map<string, { topic: string; partition: number; from: bigint; to: bigint }>();
  for (const r of ranges) {
    if (r.to <= r.from) continue;
    const id = `${r.topic}|${r.partition}`;
    const span = spans.get(id);
    if (!span) spans.set(id, { ...r });
    else {
      if (r.from < span.from) span.from = r.from;
      if (r.to > span.to) span.to = r.to;
    }
  }
  const found = new Map<string, bigint[]>();
  const reached = new Map<string, bigint>();
  for (const [id, span] of spans) {
    found.set(id, []);
    reached.set(id, span.from);
  }
  if (spans.size > 0) await readSpans(kafka, spans, found, reached, timeoutMs);

  return ranges.map((r) => {
    if (r.to <= r.from) return { records: 0, last: undefined };
    const id = `${r.topic}|${r.partition}`;
    if ((reached.get(id) ?? r.from) < r.to) return undefined;
    let records = 0;
    let last: bigint | undefined;
    for (const offset of found.get(id) ?? [])
      if (offset >= r.from && offset < r.to) {
        records++;
        last = offset;
      }
    return { records, last };
  });
}

async function readSpans(
  kafka: Kafka,
  spans: ReadonlyMap<string, { topic: string; partition: number; from: bigint; to: bigint }>,
  found: Map<string, bigint[]>,
  reached: Map<string, bigint>,
  timeoutMs: number,
): Promise<void> {
  const topics = new Set([...spans.values()].map((s) => s.topic));
  // kafkajs reads only through a consumer group (no manual assignment, tulios/kafkajs#373): one
  // of its own, never committing, dropped by the broker once empty.
  const consumer = kafka.consumer({
    groupId: `cdc-lag.${randomUUID()}`,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
    readUncommitted: false,
    retry: { retries: 1 },
  });
  const open = new Set(spans.keys());
  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });
  const advance = (id: string, to: bigint) => {
    const span = spans.get(id);
    if (!span) return;
    if (to > (reached.get(id) ?? span.from)) reached.set(id, to);
    if ((reached.get(id) ?? span.from) >= span.to && open.delete(id)) {
      consumer.pause([{ topic: span.topic, partitions: [span.partition] }]);
      if (open.size === 0) finish();
    }
  };
  // After every join: everything paused but the spans still open, each sought to where its read
  // stands (kafkajs restarts from a position that is not ours).
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const topic of topics) consumer.pause([{ topic }]);
    for (const id of open) {
      const span = spans.get(id);
      if (!span) continue;
      consumer.resume([{ topic: span.topic, partitions: [span.partition] }]);
      consumer.seek({
        topic: span.topic,
        partition: span.partition,
        offset: String(reached.get(id) ?? span.from),
      });
    }
  });
  // Emitted after every fetched batch, also one whose records were all filtered out (markers,
  // aborted records), which eachBatch never sees: the read may stand past its last record.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const id = `${payload.topic}|${payload.partition}`;
    const from = reached.get(id);
    if (from === undefined || payload.firstOffset === null || payload.lastOffset === null) return;
    // A batch fetched before a seek begins elsewhere: only one continuing the read counts.
    if (BigInt(payload.firstOffset) > from) return;
    advance(id, BigInt(payload.lastOffset) + 1n);
  });
  // A crash kafkajs restarts from (a retriable error while the broker loads its coordinators)
  // is waited out: the join after it seeks every open span back to where its read stands.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    finish(new KafkaReadError(`reading ${[...topics].join(', ')} failed`, payload.error));
  });
  const timer = setTimeout(() => finish(), timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // A batch fetched before a seek (stale to kafkajs) still holds every committed record of
      // its offsets: it counts if it continues the read, as any other.
      eachBatch: async ({ batch }) => {
        const id = `${batch.topic}|${batch.partition}`;
        const span = spans.get(id);
        const offsets = found.get(id);
        const first = batch.firstOffset();
        if (!span || !offsets || first === null) return;
        let at = reached.get(id) ?? span.from;
        if (BigInt(first) > at) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          // Read already, or past the span.
          if (offset < at || offset >= span.to) continue;
          offsets.push(offset);
          at = offset + 1n;
        }
        reached.set(id, at);
      },
    });
    await done;
  } catch (err) {
    throw err instanceof KafkaReadError
      ? err
      : new KafkaReadError(`cannot read ${[...topics].join(', ')}`, err);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
