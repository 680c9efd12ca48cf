import type avro from 'avsc';
import { type Document, Long } from 'mongodb';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { recordFields } from '../../../runtime/schema/avro-schema.ts';
import { LONG_RANGE, toExactLong } from '../../../runtime/schema/exact-long-type.ts';
import type { SinkEvent } from '../../../runtime/sink/sink.ts';
import { type BsonConverter, BsonValueProblem, bsonConverter } from './bson-value.ts';
import { MongoMappingError } from './mongo-mapping-error.ts';
import { encodeVersion } from './mongo-version.ts';

/** The stored version: the stream id of the event the document was last written from. */
export const VERSION_FIELD = '_v';
/** `false` on a live document, `true` on a tombstone. Query live documents with `{ _deleted: false }`. */
export const DELETED_FIELD = '_deleted';
/** When the delete was captured, on tombstones only (for an operator's purge job or TTL index). */
export const DELETED_AT_FIELD = '_deletedAt';

const RESERVED = new Set(['_id', VERSION_FIELD, DELETED_FIELD, DELETED_AT_FIELD]);

/**
 * A document `_id`: the entity key, typed like the key field. A long key beyond ±(2^53 − 1) is a
 * BSON Long (int64), which keeps every digit a double would lose.
 */
export type DocumentId = string | number | Long;

/** One record field and where it goes in the document. */
export interface FieldMapping {
  /** Avro field name. */
  readonly field: string;
  /** Document field name. */
  readonly documentField: string;
  /** The value's BSON form (bson-value.ts), built with the mapping from the field's type. */
  readonly convert: BsonConverter;
}

/** How an entity's records become documents, fixed per reader schema. */
export interface DocumentMapping {
  readonly entity: string;
  readonly collection: string;
  readonly keyField: string;
  /**
   * `int` or `long` for a key field of those types: `_id` is then a number, so `{ _id: 42 }` finds
   * it, or for a long beyond ±(2^53 − 1) a BSON Long.
   */
  readonly keyType: 'string' | 'int' | 'long';
  /** Every field but the key field, which is stored as `_id` only. */
  readonly fields: readonly FieldMapping[];
}

/**
 * Checks a document field name given in the configuration: MongoDB reads a dot as a path and a
 * leading `$` as an operator (https://www.mongodb.com/docs/manual/core/dot-dollar-considerations/),
 * and the sink's own fields cannot be reused. Returns the problem, or undefined when valid.
 */
export function documentFieldProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes('.')) return 'contains a dot';
  if (name.startsWith('$')) return 'starts with $';
  if (name.includes('\0')) return 'contains a NUL character';
  if (RESERVED.has(name)) return `is reserved by the sink (${[...RESERVED].join(', ')})`;
  return undefined;
}

/**
 * Builds the mapping of an entity from its reader schema. Throws ConfigError when the key field is
 * missing or not a string/int/long, when `rename` names a field the schema does not have (or the key
 * field), or when two fields would land on the same document field.
 */
export function buildDocumentMapping(
  entity: string,
  type: avro.Type,
  keyField: string,
  collection: string,
  rename: Readonly<Record<string, string>> = {},
): DocumentMapping {
  const schemaFields = recordFields(type, entity);
  const key = schemaFields.find((f) => f.name === keyField);
  if (!key) throw new ConfigError(`schema of ${entity} has no key field "${keyField}"`);
  const keyTypeName = key.type.typeName;
  if (keyTypeName !== 'string' && keyTypeName !== 'int' && keyTypeName !== 'long') {
    throw new ConfigError(
      `key field ${entity}.${keyField} must be a string, int or long, it is ${keyTypeName}`,
    );
  }
  for (const name of Object.keys(rename)) {
    if (name === keyField) {
      throw new ConfigError(
        `fields of ${entity}: the key field "${keyField}" is always stored as _id and cannot be mapped`,
      );
    }
    if (!schemaFields.some((f) => f.name === name)) {
      throw new ConfigError(`fields of ${entity}: the schema has no field "${name}"`);
    }
  }
  const fields: FieldMapping[] = [];
  const owners = new Map<string, string>();
  for (const field of schemaFields) {
    if (field.name === keyField) continue;
    const documentField = rename[field.name] ?? field.name;
    const problem = documentFieldProblem(documentField);
    if (problem) {
      throw new ConfigError(
        `${entity}.${field.name} would be stored as "${documentField}", which ${problem}; map it to another name with "fields"`,
      );
    }
    const owner = owners.get(documentField);
    if (owner !== undefined) {
      throw new ConfigError(
        `${entity}.${owner} and ${entity}.${field.name} would both be stored as "${documentField}"`,
      );
    }
    owners.set(documentField, field.name);
    fields.push({ field: field.name, documentField, convert: bsonConverter(field.type) });
  }
  return {
    entity,
    collection,
    keyField,
    keyType: keyTypeName,
    fields,
  };
}

/** The document field a record field (or a dotted path starting with one) is stored under. */
export function documentPath(mapping: DocumentMapping, path: string): string | undefined {
  const [head, ...rest] = path.split('.');
  if (head === mapping.keyField) return rest.length === 0 ? '_id' : undefined;
  const field = mapping.fields.find((f) => f.field === head);
  return field ? [field.documentField, ...rest].join('.') : undefined;
}

/** The `_id` of an event's document. Keys travel as text; a numeric key field gives a number. */
export function documentId(mapping: DocumentMapping, key: string): DocumentId {
  if (mapping.keyType === 'string') return key;
  const value = mapping.keyType === 'long' ? toExactLong(key) : toInt(key);
  if (value === undefined) {
    throw new MongoMappingError(
      mapping.entity,
      key,
      mapping.keyField,
      `the key must be ${mapping.keyType === 'long' ? LONG_RANGE : INT_RANGE}`,
    );
  }
  return typeof value === 'bigint' ? Long.fromBigInt(value) : value;
}

const INT_RANGE = `an integer from ${-(2 ** 31)} to ${2 ** 31 - 1}`;

function toInt(key: string): number | undefined {
  const value = Number(key);
  return /^-?\d+$/.test(key) && value === (value | 0) ? value : undefined;
}

/**
 * The document an upsert replaces the stored one with: every record field (renamed), the version
 * and `_deleted: false`. The `_id` comes from the write's filter. Throws MongoMappingError when a
 * value does not fit its schema type.
 */
export function liveDocument(
  mapping: DocumentMapping,
  event: SinkEvent,
  version = encodeVersion(event.id),
): Document {
  const record = event.record;
  if (record === undefined || record === null || typeof record !== 'object') {
    throw new MongoMappingError(mapping.entity, event.key, '', 'an upsert without a record');
  }
  const document: Document = { [VERSION_FIELD]: version, [DELETED_FIELD]: false };
  let at = '';
  try {
    for (const { field, documentField, convert } of mapping.fields) {
      const value = record[field];
      // A record decoded with the reader schema has every field; one that lacks a field is stored
      // without it rather than with a guessed value.
      if (value === undefined) continue;
      at = field;
      document[documentField] = convert(value);
    }
  } catch (error) {
    if (!(error instanceof BsonValueProblem)) throw error;
    throw new MongoMappingError(
      mapping.entity,
      event.key,
      `${at}${error.path}`,
      error.problem,
      error.cause,
    );
  }
  return document;
}

/**
 * What a delete leaves: the version, `_deleted: true` and the capture time, no data fields.
 * Keeping it (rather than removing the document) is what stops a replayed older upsert from
 * bringing the document back: its version guard finds the tombstone's newer version.
 */
export function tombstoneDocument(event: SinkEvent, version = encodeVersion(event.id)): Document {
  return {
    [VERSION_FIELD]: version,
    [DELETED_FIELD]: true,
    [DELETED_AT_FIELD]: new Date(event.capturedAt),
  };
}
