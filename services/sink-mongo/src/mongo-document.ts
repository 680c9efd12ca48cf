import avro from 'avsc';
import { type Document, Long } from 'mongodb';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { recordFields } from '../../../runtime/schema/avro-schema.ts';
import type { SinkEvent } from '../../../runtime/sink/sink.ts';
import { MongoMappingError } from './mongo-mapping-error.ts';
import { encodeVersion } from './mongo-version.ts';

/** The stored version: the stream id of the event the document was last written from. */
export const VERSION_FIELD = '_v';
/** `false` on a live document, `true` on a tombstone. Query live documents with `{ _deleted: false }`. */
export const DELETED_FIELD = '_deleted';
/** When the delete was captured, on tombstones only (for an operator's purge job or TTL index). */
export const DELETED_AT_FIELD = '_deletedAt';

const RESERVED = new Set(['_id', VERSION_FIELD, DELETED_FIELD, DELETED_AT_FIELD]);
const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A document `_id`: the entity key, typed like the key field. */
export type DocumentId = string | number;

/** One record field and where it goes in the document. */
export interface FieldMapping {
  /** Avro field name. */
  readonly field: string;
  /** Document field name. */
  readonly documentField: string;
  readonly type: avro.Type;
}

/** How an entity's records become documents, fixed per reader schema. */
export interface DocumentMapping {
  readonly entity: string;
  readonly collection: string;
  readonly keyField: string;
  /** `number` for an int or long key field: `_id` is then a number, so `{ _id: 42 }` finds it. */
  readonly keyType: 'string' | 'number';
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
    fields.push({ field: field.name, documentField, type: field.type });
  }
  return {
    entity,
    collection,
    keyField,
    keyType: keyTypeName === 'string' ? 'string' : 'number',
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
  const value = Number(key);
  if (!/^-?\d+$/.test(key) || !Number.isSafeInteger(value)) {
    throw new MongoMappingError(
      mapping.entity,
      key,
      mapping.keyField,
      'the key must be an integer within ±2^53',
    );
  }
  return value;
}

/**
 * The document an upsert replaces the stored one with: every record field (renamed), the version
 * and `_deleted: false`. The `_id` comes from the write's filter. Throws MongoMappingError when a
 * value does not fit its schema type.
 */
export function liveDocument(mapping: DocumentMapping, event: SinkEvent): Document {
  const record = event.record;
  if (record === undefined || record === null || typeof record !== 'object') {
    throw new MongoMappingError(mapping.entity, event.key, '', 'an upsert without a record');
  }
  const document: Document = { [VERSION_FIELD]: encodeVersion(event.id), [DELETED_FIELD]: false };
  for (const { field, documentField, type } of mapping.fields) {
    const value = record[field];
    // A record decoded with the reader schema has every field; one that lacks a field is stored
    // without it rather than with a guessed value.
    if (value === undefined) continue;
    document[documentField] = toBsonValue(type, value, field, (path, problem, cause) => {
      throw new MongoMappingError(mapping.entity, event.key, path, problem, cause);
    });
  }
  return document;
}

/**
 * What a delete leaves: the version, `_deleted: true` and the capture time, no data fields.
 * Keeping it (rather than removing the document) is what stops a replayed older upsert from
 * bringing the document back: its version guard finds the tombstone's newer version.
 */
export function tombstoneDocument(event: SinkEvent): Document {
  return {
    [VERSION_FIELD]: encodeVersion(event.id),
    [DELETED_FIELD]: true,
    [DELETED_AT_FIELD]: new Date(event.capturedAt),
  };
}

type Fail = (path: string, problem: string, cause?: unknown) => never;

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Converts a decoded Avro value to its BSON form, led by the schema type: the logical types arrive
 * as ISO strings (runtime/schema/logical-types.ts) that only the type tells apart from plain
 * strings. `timestamp-millis` becomes a BSON Date; `date` a BSON Date at 00:00 UTC, because BSON
 * has no date-only type and midnight UTC keeps range queries and `$dateToString` exact. Nested
 * records become plain sub-documents, wrapped unions lose their wrapper (the branch is not data).
 */
export function toBsonValue(type: avro.Type, value: unknown, path: string, fail: Fail): unknown {
  const expected = (what: string): never => fail(path, `expected ${what}, got ${show(value)}`);
  switch (type.typeName) {
    case 'null':
      return value === null ? null : expected('null');
    case 'boolean':
      return typeof value === 'boolean' ? value : expected('a boolean');
    case 'int':
    case 'long':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'bigint') return Long.fromBigInt(value);
      return expected('an integer');
    case 'float':
    case 'double':
      return typeof value === 'number' ? value : expected('a number');
    case 'string':
      return typeof value === 'string' ? value : expected('a string');
    case 'enum':
      return typeof value === 'string' ? value : expected('an enum symbol');
    case 'bytes':
    case 'fixed':
      return Buffer.isBuffer(value) ? value : expected('bytes');
    case 'logical:timestamp-millis':
      return timestamp(value) ?? expected('a timestamp');
    case 'logical:date':
      return date(value) ?? expected('a date (YYYY-MM-DD)');
    case 'array': {
      if (!Array.isArray(value)) return expected('an array');
      const items = (type as avro.types.ArrayType).itemsType;
      return value.map((item, i) => toBsonValue(items, item, `${path}[${i}]`, fail));
    }
    case 'map': {
      if (!isObject(value)) return expected('a map');
      const values = (type as avro.types.MapType).valuesType;
      const out: Document = {};
      for (const [k, v] of Object.entries(value))
        out[k] = toBsonValue(values, v, `${path}.${k}`, fail);
      return out;
    }
    case 'record':
    case 'error': {
      if (!isObject(value)) return expected('a record');
      const out: Document = {};
      for (const field of (type as avro.types.RecordType).fields) {
        const v = value[field.name];
        if (v !== undefined)
          out[field.name] = toBsonValue(field.type, v, `${path}.${field.name}`, fail);
      }
      return out;
    }
    case 'union:unwrapped': {
      const branch = (type as avro.types.UnwrappedUnionType).types.find((t) => t.isValid(value));
      return branch ? toBsonValue(branch, value, path, fail) : expected(unionNames(type));
    }
    case 'union:wrapped': {
      if (value === null) return null;
      if (!isObject(value)) return expected(unionNames(type));
      const entries = Object.entries(value);
      const branch = (type as avro.types.WrappedUnionType).types.find(
        (t) => t.branchName === entries[0]?.[0],
      );
      if (entries.length !== 1 || !branch) return expected(unionNames(type));
      return toBsonValue(branch, entries[0]![1], path, fail);
    }
    default:
      // A logical type the project does not register is read as its underlying type by avsc.
      if (type instanceof avro.types.LogicalType)
        return toBsonValue(type.underlyingType, value, path, fail);
      return fail(path, `the Avro type ${type.typeName} is not supported by the MongoDB sink`);
  }
}

function unionNames(type: avro.Type): string {
  return `one of ${(type as unknown as { types: avro.Type[] }).types.map((t) => t.branchName ?? t.typeName).join(', ')}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
  );
}

function timestamp(value: unknown): Date | undefined {
  let ms: number;
  if (typeof value === 'string') ms = Date.parse(value);
  else if (typeof value === 'number') ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else return undefined;
  const result = new Date(ms);
  return Number.isNaN(result.getTime()) ? undefined : result;
}

function date(value: unknown): Date | undefined {
  if (typeof value === 'string') {
    if (!ISO_DATE.test(value)) return undefined;
    const result = new Date(`${value}T00:00:00.000Z`);
    // 2023-02-31 would roll over into March: a date that does not round-trip is not a date.
    return !Number.isNaN(result.getTime()) && result.toISOString().slice(0, 10) === value
      ? result
      : undefined;
  }
  if (typeof value === 'number')
    return Number.isInteger(value) ? new Date(value * DAY_MS) : undefined;
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : new Date(Math.floor(ms / DAY_MS) * DAY_MS);
  }
  return undefined;
}
