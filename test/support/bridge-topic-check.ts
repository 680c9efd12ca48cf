import avro from 'avsc';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { readTopicToEnd, type TopicEnds } from '../../runtime/kafka/read-topic-to-end.ts';
import { schemaFile } from './capture-fixtures.ts';

/** Checks of what the Kafka bridge wrote to a topic, for its integration and fault tests. */

const todoType = avro.Type.forSchema(schemaFile('todo') as avro.Schema);

/** One record read back from a topic. */
export interface Read {
  message: KafkaMessage;
  partition: number;
}

/**
 * Reads a topic from the start up to where it ends once its offsets settle (below), read_committed
 * unless `readUncommitted`. A topic that does not exist reads as empty.
 */
export async function readTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  readUncommitted = false,
): Promise<Read[]> {
  const read: Read[] = [];
  await readTopicToEnd(
    kafka,
    admin,
    topic,
    (message, partition) => read.push({ message, partition }),
    60_000,
    { readUncommitted, ends: settledOffsets, throughHighWatermark: true },
  );
  return read;
}

/**
 * The topic's offsets once they stop moving: three equal answers in a row, 100 ms apart, within
 * 10 s. kafkajs' admin answers the last stable offset, which the commit markers of a transaction a
 * bridge just reported committed can still hold back; the read goes on through the high
 * watermark (`throughHighWatermark`), and these ends only choose the partitions to read and a
 * first end for them.
 */
async function settledOffsets(admin: Admin, topic: string): Promise<TopicEnds> {
  let last = await admin.fetchTopicOffsets(topic);
  let same = 0;
  for (const started = Date.now(); same < 2 && Date.now() - started < 10_000; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await admin.fetchTopicOffsets(topic);
    same = JSON.stringify(next) === JSON.stringify(last) ? same + 1 : 0;
    last = next;
  }
  return last;
}

/** The sequence number a test wrote into a todo's name, from a record's Avro payload. */
export function sequenceOf(message: KafkaMessage): number {
  const record = todoType.fromBuffer(message.value!.subarray(5)) as { name: string };
  return Number(record.name);
}

/**
 * Per key, the sequence numbers read in topic order, and any problem: a key in two Kafka
 * partitions, a sequence out of order, or one seen twice.
 */
export function keyOrderProblems(reads: readonly Read[]): string[] {
  const problems: string[] = [];
  const last = new Map<string, { seq: number; partition: number }>();
  const seen = new Set<number>();
  for (const { message, partition } of reads) {
    if (message.value === null) continue;
    const key = message.key!.toString();
    const seq = sequenceOf(message);
    if (seen.has(seq)) problems.push(`sequence ${seq} (key ${key}) read twice`);
    seen.add(seq);
    const before = last.get(key);
    if (before && before.partition !== partition)
      problems.push(`key ${key} in partitions ${before.partition} and ${partition}`);
    if (before && before.seq >= seq) problems.push(`key ${key}: ${seq} after ${before.seq}`);
    last.set(key, { seq, partition });
  }
  return problems;
}
