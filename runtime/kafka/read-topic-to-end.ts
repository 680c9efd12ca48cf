import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { KafkaReadError } from '../errors/kafka-read-error.ts';
import { assertReadCommittedFilterFixed } from './read-committed-check.ts';

/** Where each partition of a topic starts (`low`) and ends (`offset`), as kafkajs' admin lists them. */
export type TopicEnds = ReadonlyArray<{ partition: number; offset: string; low: string }>;

export interface ReadTopicOptions {
  /**
   * Read what is not committed too (records of open and aborted transactions). Default false:
   * read_committed.
   */
  readUncommitted?: boolean;
  /**
   * Where to read up to, asked once the topic is known to exist. Default: the admin's
   * `fetchTopicOffsets`, each partition's last stable offset.
   */
  ends?: (admin: Admin, topic: string) => Promise<TopicEnds>;
  /**
   * Also read each partition up to the high watermark its last fetch reported, so through every
   * transaction written before the read, once it is decided. A broker answers a commit before it
   * has written the commit markers, so right after a producer saw its transaction committed the
   * last stable offset can still be below it; a read up to the last stable offset alone would
   * miss it. Only for a topic nobody writes to any more (a test's check of what was written):
   * with producers still at work the read follows them. Default false.
   */
  throughHighWatermark?: boolean;
}

/**
 * Reads a whole topic once, from the start of every partition up to where it ended when the read
 * began, with read_committed: everything committed by then, nothing of a transaction still open
 * (kafkajs' admin lists offsets read_committed, so the end is each partition's last stable
 * offset). A topic that does not exist reads as empty. Throws KafkaReadError when the end is not
 * reached within `timeoutMs` or the consumer crashes for good. `options` reads uncommitted records too or
 * up to other ends (a test's checks).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  timeoutMs: number,
  options: ReadTopicOptions = {},
): Promise<void> {
  if (!options.readUncommitted) assertReadCommittedFilterFixed();
  if (!(await admin.listTopics()).includes(topic)) return;
  const remaining = new Map<number, bigint>();
  const ends = options.ends ?? ((a: Admin, t: string) => a.fetchTopicOffsets(t));
  for (const { partition, offset, low } of await ends(admin, topic))
    if (BigInt(offset) > BigInt(low)) remaining.set(partition, BigInt(offset));
  if (remaining.size === 0) return;
  // kafkajs reads only through a consumer group: one of its own, never committing, so that no
  // read resumes from another's position (a group without offsets is dropped once empty).
  const consumer = kafka.consumer({
    groupId: `${topic}.reader.${randomUUID()}`,
    maxWaitTimeInMs: 50,
    readUncommitted: options.readUncommitted ?? false,
    allowAutoTopicCreation: false,
    retry: { retries: 2 },
  });
  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });
  // Emitted after every fetched batch, also one whose records were all filtered out (commit
  // markers, aborted records): the end may lie past the last message delivered.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = remaining.get(payload.partition);
    if (end === undefined || payload.lastOffset === null) return;
    const next = BigInt(payload.lastOffset) + 1n;
    const through = options.throughHighWatermark ? BigInt(payload.highWatermark) : 0n;
    if (next >= end && next >= through) remaining.delete(payload.partition);
    if (remaining.size === 0) finish();
  });
  // A crash kafkajs restarts from (a retriable error such as GROUP_COORDINATOR_NOT_AVAILABLE
  // while a broker is still loading its coordinators) is waited out within `timeoutMs`.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    finish(new KafkaReadError(`reading ${topic} failed: ${payload.error.message}`, payload.error));
  });
  const timer = setTimeout(
    () =>
      finish(new KafkaReadError(`reading ${topic} did not reach its end within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) onMessage(message, batch.partition);
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
