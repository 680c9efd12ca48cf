import type { ChangeEvent } from '../envelope.ts';
import { EnvelopeError } from '../errors/envelope-error.ts';
import { isStreamId } from '../stream-id.ts';
import { decodeConfluentValue, encodeConfluentValue } from './confluent-wire.ts';

/**
 * Header names of a change event in Kafka. Namespaced, so they never collide with a consumer's
 * own headers.
 *
 * | header             | content                                                |
 * | ------------------ | ------------------------------------------------------ |
 * | `cdc.op`           | `upsert` or `delete`                                   |
 * | `cdc.entity`       | entity name                                            |
 * | `cdc.key`          | entity key (also the message key)                      |
 * | `cdc.captured_at`  | capture time, ms since the epoch, decimal              |
 * | `cdc.stream_id`    | the source stream entry id: the event's version        |
 * | `cdc.partition`    | the source partition (Redis stream) number, decimal    |
 * | `cdc.idem`         | idempotency key (optional)                             |
 * | `cdc.trace`        | trace id (optional)                                    |
 */
export const KAFKA_HEADER = {
  op: 'cdc.op',
  entity: 'cdc.entity',
  key: 'cdc.key',
  capturedAt: 'cdc.captured_at',
  streamId: 'cdc.stream_id',
  partition: 'cdc.partition',
  idempotencyKey: 'cdc.idem',
  traceId: 'cdc.trace',
} as const;

/** A change event as a Kafka message: what a producer sends and a consumer receives. */
export interface KafkaChangeMessage {
  /** The entity key, UTF-8: Kafka's partitioner keeps one key's events in order. */
  key: Buffer;
  /** Confluent wire format (magic 0, schema id, Avro); null for a delete (a tombstone). */
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

/**
 * The same message with its key and header values as text, which a Kafka client writes as UTF-8
 * straight into the record: the bytes on the wire are those of `KafkaChangeMessage`, without a
 * buffer made for each of them first (seven per record: building a record with them took twice
 * as long, bench/bridge-kafka/records.ts).
 */
export interface KafkaChangeRecord {
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * The record of a change event read from source partition `partition`. Throws EnvelopeError for
 * an upsert without a schema id or payload.
 */
export function kafkaChangeRecord(event: ChangeEvent, partition: number): KafkaChangeRecord {
  const headers: Record<string, string> = {
    [KAFKA_HEADER.op]: event.op,
    [KAFKA_HEADER.entity]: event.entity,
    [KAFKA_HEADER.key]: event.key,
    [KAFKA_HEADER.capturedAt]: String(event.capturedAt),
    [KAFKA_HEADER.streamId]: event.id,
    [KAFKA_HEADER.partition]: String(partition),
  };
  if (event.idempotencyKey !== undefined)
    headers[KAFKA_HEADER.idempotencyKey] = event.idempotencyKey;
  if (event.traceId !== undefined) headers[KAFKA_HEADER.traceId] = event.traceId;
  let value: Buffer | null = null;
  if (event.op === 'upsert') {
    if (event.schemaId === undefined || event.payload === undefined)
      throw new EnvelopeError(`upsert ${event.entity} "${event.key}" has no schema id or payload`);
    value = encodeConfluentValue(event.schemaId, event.payload);
  }
  return { key: event.key, value, headers };
}

/** The message of a change event read from source partition `partition`, as bytes. */
export function encodeKafkaMessage(event: ChangeEvent, partition: number): KafkaChangeMessage {
  const { key, value, headers } = kafkaChangeRecord(event, partition);
  const bytes: Record<string, Buffer> = {};
  for (const name in headers) bytes[name] = Buffer.from(headers[name]!);
  return { key: Buffer.from(key), value, headers: bytes };
}

/** A header as Kafka clients hand it over: bytes, text, or several values. */
type HeaderValue = Buffer | string | Array<Buffer | string> | undefined;

/**
 * The change event of a message read back from Kafka, with the source partition it came from.
 * Throws EnvelopeError, naming what is wrong, for a message that is not one (a sink
 * dead-letters it).
 */
export function decodeKafkaMessage(message: {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, HeaderValue>;
}): { event: ChangeEvent; partition: number } {
  const header = (name: string, required = true): string | undefined => {
    let raw = message.headers?.[name];
    if (Array.isArray(raw)) raw = raw[0];
    if (raw === undefined) {
      if (required) throw new EnvelopeError(`message has no ${name} header`);
      return undefined;
    }
    return raw.toString();
  };
  const op = header(KAFKA_HEADER.op);
  if (op !== 'upsert' && op !== 'delete') throw new EnvelopeError(`bad ${KAFKA_HEADER.op}: ${op}`);
  const id = header(KAFKA_HEADER.streamId)!;
  if (!isStreamId(id)) throw new EnvelopeError(`bad ${KAFKA_HEADER.streamId}: ${id}`);
  const capturedAt = Number(header(KAFKA_HEADER.capturedAt));
  const partition = Number(header(KAFKA_HEADER.partition));
  if (!Number.isSafeInteger(capturedAt) || !Number.isInteger(partition) || partition < 0)
    throw new EnvelopeError('bad capture time or source partition header');
  const event: ChangeEvent = {
    id,
    op,
    entity: header(KAFKA_HEADER.entity)!,
    key: header(KAFKA_HEADER.key) ?? message.key?.toString() ?? '',
    capturedAt,
  };
  const idem = header(KAFKA_HEADER.idempotencyKey, false);
  const trace = header(KAFKA_HEADER.traceId, false);
  if (idem !== undefined) event.idempotencyKey = idem;
  if (trace !== undefined) event.traceId = trace;
  if (op === 'upsert') {
    if (!message.value)
      throw new EnvelopeError(`upsert ${event.entity} "${event.key}" has no value`);
    const { schemaId, avro } = decodeConfluentValue(message.value);
    event.schemaId = schemaId;
    event.payload = avro;
  } else if (message.value !== null && message.value.length > 0) {
    throw new EnvelopeError(`delete ${event.entity} "${event.key}" is not a tombstone`);
  }
  return { event, partition };
}

/** The topic of an entity unless configured otherwise: `<prefix>.<entity>`. */
export function defaultTopic(prefix: string, entity: string): string {
  return `${prefix}.${entity}`;
}

/** The compacted topic where the bridge keeps each partition's offset: `<prefix>.__bridge_offsets`. */
export function bridgeOffsetsTopic(prefix: string): string {
  return `${prefix}.__bridge_offsets`;
}
