import type { Admin, Message, ProducerRecord, RecordMetadata } from 'kafkajs';
import type { EntityMetadata } from '../capture/entity-metadata.ts';
import { EnvelopeError } from '../errors/envelope-error.ts';
import type { RegisteredSchema, SchemaRegistry } from '../schema/schema-registry.ts';
import { createTopicIfMissing } from './create-topic.ts';

/**
 * The schema mirror: every schema the bridge's messages name, kept in Kafka beside them, so that
 * they can still be decoded when Redis (and its registry) is gone. A compacted topic,
 * `<prefix>.__schemas`, one record per schema id:
 *
 * - key: the schema id, decimal (so compaction keeps one record per id);
 * - value: JSON `{ "format": 1, "id", "entity", "version", "fingerprint", "schema",
 *   "partitions", "keyField" }`: the registered schema as the registry holds it (the schema text
 *   exactly as registered, so that its identity is the same when restored) and the entity's
 *   metadata (its key field, which a sink needs to key rows, and its partition count in Redis).
 *
 * The bridge sends a schema's record (with its entity's earlier versions) before the first message
 * that carries its id is committed (`mirrorSchema`); a sink reading Kafka restores what is missing into
 * the registry (`schema-mirror-restore.ts`). JSON rather than Avro: an operator reads it with any
 * console consumer.
 */
export function schemaMirrorTopic(prefix: string): string {
  return `${prefix}.__schemas`;
}

/** One record of the schema mirror. */
export interface MirroredSchema {
  id: number;
  entity: string;
  version: number;
  /** SHA-256 of the Parsing Canonical Form, hex. */
  fingerprint: string;
  /** The schema JSON exactly as registered. */
  schema: string;
  /** The entity's metadata when the schema was mirrored. */
  metadata: EntityMetadata;
}

/** The record's format: a later shape gets another number, and older readers refuse it. */
const FORMAT = 1;

/** The mirror record of a registered schema of an entity with this metadata. */
export function mirroredSchemaOf(
  schema: Omit<RegisteredSchema, 'type'>,
  metadata: EntityMetadata,
): MirroredSchema {
  const { id, entity, version, fingerprint } = schema;
  return {
    id,
    entity,
    version,
    fingerprint,
    schema: schema.schema,
    metadata: { partitions: metadata.partitions, keyField: metadata.keyField },
  };
}

/** The Kafka message of a mirror record. */
export function encodeMirroredSchema(record: MirroredSchema): { key: Buffer; value: Buffer } {
  const { id, entity, version, fingerprint, schema, metadata } = record;
  const value = {
    format: FORMAT,
    id,
    entity,
    version,
    fingerprint,
    schema,
    partitions: metadata.partitions,
    keyField: metadata.keyField,
  };
  return { key: Buffer.from(String(id)), value: Buffer.from(JSON.stringify(value)) };
}

/**
 * The mirror record of a message read back, or undefined for a tombstone (nothing to restore).
 * Throws EnvelopeError, naming what is wrong, for a message that is not a mirror record.
 */
export function decodeMirroredSchema(message: {
  key: Buffer | null;
  value: Buffer | null;
}): MirroredSchema | undefined {
  if (message.value === null || message.value.length === 0) return undefined;
  const key = message.key?.toString() ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(message.value.toString());
  } catch (err) {
    throw new EnvelopeError(`schema mirror record "${key}" is not JSON`, err);
  }
  const v = raw as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || v.format !== FORMAT)
    throw new EnvelopeError(
      `schema mirror record "${key}" is not of format ${FORMAT} (written by a newer version?)`,
    );
  const positive = (name: string, min: number): number => {
    const n = v[name];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min)
      throw new EnvelopeError(`schema mirror record "${key}": bad ${name}: ${String(n)}`);
    return n;
  };
  const text = (name: string): string => {
    const s = v[name];
    if (typeof s !== 'string' || s === '')
      throw new EnvelopeError(`schema mirror record "${key}": bad ${name}`);
    return s;
  };
  const id = positive('id', 1);
  if (key !== String(id))
    throw new EnvelopeError(`schema mirror record keyed "${key}" holds schema id ${id}`);
  return {
    id,
    entity: text('entity'),
    version: positive('version', 1),
    fingerprint: text('fingerprint'),
    schema: text('schema'),
    metadata: { partitions: positive('partitions', 1), keyField: text('keyField') },
  };
}

/** What sends records: a kafkajs Producer, or a Transaction of a transactional one. */
export interface RecordSender {
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
}

/**
 * Sends the mirror records of schema `schemaId` and of every earlier version of its entity through
 * `sender`, and returns them. The bridge calls it before the first message naming the id is
 * committed: with the transaction that will carry that message (the records then commit with it
 * or not at all), or with a producer of its own, awaited before that transaction commits (the
 * records are then in Kafka first). Either way a read_committed reader that sees the message can
 * see its schema. Earlier
 * versions go too because a registry is restored version by version (a version's number is its
 * place in the entity's list), and one that no message ever carried would otherwise be missing.
 * Sending a record again is harmless: compaction keeps the last of each id.
 */
export async function mirrorSchema(
  sender: RecordSender,
  prefix: string,
  registry: Pick<SchemaRegistry, 'get' | 'versions'>,
  schemaId: number,
  metadata: EntityMetadata,
): Promise<MirroredSchema[]> {
  const schema = await registry.get(schemaId);
  const records = (await registry.versions(schema.entity))
    .filter((v) => v.version <= schema.version)
    .map((v) => mirroredSchemaOf(v, metadata));
  const messages: Message[] = records.map(encodeMirroredSchema);
  await sender.send({ topic: schemaMirrorTopic(prefix), messages });
  return records;
}

/**
 * Creates the mirror topic if it is missing: one partition (a record per schema version, read
 * whole), compacted (the last record of each id is all that matters), with segments rolled every
 * hour so compaction reclaims superseded records. Returns whether it was created.
 */
export async function ensureSchemaMirrorTopic(
  admin: Admin,
  prefix: string,
  replicationFactor = 1,
): Promise<boolean> {
  return createTopicIfMissing(admin, {
    topic: schemaMirrorTopic(prefix),
    numPartitions: 1,
    replicationFactor,
    configEntries: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.ms', value: String(60 * 60 * 1000) },
    ],
  });
}
