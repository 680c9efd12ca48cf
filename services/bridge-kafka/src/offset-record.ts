import type { Message } from 'kafkajs';
import { parsePartitionId, partitionId } from '../../../runtime/partition-id.ts';
import { isStreamId } from '../../../runtime/stream-id.ts';

/**
 * One record of the offsets topic: key `<sink>/<entity>/<partition>` (the partition id scoped by
 * the bridge's name, so several bridges share the topic and compaction keeps the last offset of
 * each), value the stream id the partition was produced up to, as text.
 */
export function offsetRecord(sink: string, entity: string, partition: number, id: string): Message {
  return { key: `${sink}/${partitionId(entity, partition)}`, value: id };
}

/**
 * The partition id (`<entity>/<partition>`) and stream id of an offsets record of `sink`, or
 * undefined for a record of another bridge or one that is not an offset (a tombstone, a key
 * that does not parse).
 */
export function parseOffsetRecord(
  sink: string,
  key: Buffer | null,
  value: Buffer | null,
): { partition: string; id: string } | undefined {
  if (key === null || value === null) return undefined;
  const text = key.toString();
  if (!text.startsWith(`${sink}/`)) return undefined;
  const ref = parsePartitionId(text.slice(sink.length + 1));
  const id = value.toString();
  if (!ref || !isStreamId(id)) return undefined;
  return { partition: partitionId(ref.entity, ref.partition), id };
}
