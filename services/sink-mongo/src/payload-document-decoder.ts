import avro from 'avsc';
import { type Document, Long } from 'mongodb';
import { exactLongs } from '../../../runtime/schema/exact-long-type.ts';
import { admitLongsInUnions } from '../../../runtime/schema/long-unions.ts';
import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';
import { bsonLogicalTypes } from './bson-logical-types.ts';
import { DELETED_FIELD, type DocumentMapping, VERSION_FIELD } from './mongo-document.ts';

/**
 * What turns a decoded value into its stored form, when it is not stored as decoded: nested
 * records become plain sub-documents, wrapped unions lose their wrapper.
 */
type Finish = (value: unknown) => unknown;

/** A type whose values are stored as decoded. */
const AS_IS = null;
/** A type the document path leaves to the record path (see `compileDocumentDecoder`). */
const UNSUPPORTED = Symbol('unsupported');

type Finisher = Finish | typeof AS_IS | typeof UNSUPPORTED;

interface FieldStep {
  readonly field: string;
  readonly documentField: string;
  readonly finish: Finish | null;
}

/**
 * Decodes the Avro payloads of one writer schema straight into the documents of one mapping
 * (whose reader schema is `reader`): the payload is read with the writer's schema resolved to the
 * reader's, as the runtime reads it (avsc `createResolver`: reader defaults for fields the writer
 * lacks, writer fields the reader lacks skipped, promotions), but with logical types that give
 * BSON values (bson-logical-types.ts) rather than the ISO strings the runtime's give. Then the
 * record's fields are copied under their document names, next to `_v` and `_deleted`, without
 * the per-value checks of the record path: a value decoded with the schema is of its type.
 * Decoding and ISO strings parsed back into Dates were most of this sink's own CPU time.
 */
export class PayloadDocumentDecoder {
  /** Use `compileDocumentDecoder`. */
  constructor(
    private readonly reader: avro.Type,
    private readonly resolver: avro.Resolver | undefined,
    private readonly steps: readonly FieldStep[],
  ) {}

  /**
   * The live document of this payload with version `version`. Throws when the payload does not
   * hold a record of the writer schema, or holds a value the sink cannot store (UnmappableValue):
   * the caller then goes the record path, which says what is wrong as it always did.
   */
  document(payload: Buffer, version: string): Document {
    const record = this.reader.fromBuffer(payload, this.resolver) as Record<string, unknown>;
    const document: Document = { [VERSION_FIELD]: version, [DELETED_FIELD]: false };
    for (const step of this.steps) {
      const value = record[step.field];
      if (value === undefined) continue;
      document[step.documentField] = step.finish === null ? value : step.finish(value);
    }
    return document;
  }

  /** Decodes the payload only, for an upsert a later one of its key supersedes. Throws like `document`. */
  check(payload: Buffer): void {
    this.reader.fromBuffer(payload, this.resolver);
  }
}

/** Parses a registered schema with the document path's logical types, as the runtime parses it otherwise. */
export function parseBsonSchema(schema: RegisteredSchema): avro.Type {
  return admitLongsInUnions(
    avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema, {
      logicalTypes: bsonLogicalTypes,
      wrapUnions: 'auto',
      typeHook: exactLongs,
    }),
  );
}

/**
 * The decoder of payloads written with `writer` into documents of `mapping`, read with `reader`
 * (the schema the mapping was built from); or undefined when a field's type is one the document
 * path does not cover: a union of several non-null branches the runtime leaves unwrapped, whose
 * branch the record path picks by the decoded value (a timestamp in `["string", timestamp]` is
 * stored as its ISO string there), so only that path stores those as they are stored today.
 */
export function compileDocumentDecoder(
  mapping: DocumentMapping,
  reader: avro.Type,
  writer: avro.Type,
  sameSchema: boolean,
): PayloadDocumentDecoder | undefined {
  if (!(reader instanceof avro.types.RecordType)) return undefined;
  const types = new Map(reader.fields.map((f) => [f.name, f.type]));
  const records = new Map<avro.Type, Finish>();
  const steps: FieldStep[] = [];
  for (const { field, documentField } of mapping.fields) {
    const type = types.get(field);
    if (!type) return undefined;
    const finish = finisherOf(type, records);
    if (finish === UNSUPPORTED) return undefined;
    steps.push({ field, documentField, finish });
  }
  // Throws when the writer cannot be read as the reader: the registry refused such a schema.
  const resolver = sameSchema ? undefined : reader.createResolver(writer);
  return new PayloadDocumentDecoder(reader, resolver, steps);
}

/** How values of `type` are finished (built once per type, records shared for recursion). */
function finisherOf(type: avro.Type, records: Map<avro.Type, Finish>): Finisher {
  switch (type.typeName) {
    case 'null':
    case 'boolean':
    case 'int':
    case 'float':
    case 'double':
    case 'string':
    case 'enum':
    case 'bytes':
    case 'fixed':
    case 'logical:timestamp-millis':
    case 'logical:date':
      return AS_IS;
    case 'long':
      return exactLong;
    case 'array': {
      const item = finisherOf((type as avro.types.ArrayType).itemsType, records);
      if (item === AS_IS || item === UNSUPPORTED) return item;
      return (value) => (value as unknown[]).map(item);
    }
    case 'map': {
      const values = finisherOf((type as avro.types.MapType).valuesType, records);
      if (values === AS_IS || values === UNSUPPORTED) return values;
      return (value) => {
        const map = value as Record<string, unknown>;
        const out: Document = {};
        for (const key of Object.keys(map)) out[key] = values(map[key]);
        return out;
      };
    }
    case 'record':
    case 'error':
      return recordFinisher(type as avro.types.RecordType, records);
    case 'union:unwrapped': {
      const branches = (type as avro.types.UnwrappedUnionType).types.filter(
        (t) => t.typeName !== 'null',
      );
      if (branches.length === 0) return AS_IS;
      if (branches.length > 1) return UNSUPPORTED;
      const only = finisherOf(branches[0]!, records);
      if (only === AS_IS || only === UNSUPPORTED) return only;
      return (value) => (value === null ? null : only(value));
    }
    case 'union:wrapped':
      return wrappedUnionFinisher(type as avro.types.WrappedUnionType, records);
    default:
      return UNSUPPORTED;
  }
}

/**
 * A long beyond ±(2^53 − 1) is decoded as a BigInt; it is stored as a BSON Long (int64), as the
 * record path stores it (bson-value.ts). Smaller ones stay numbers, stored as they always were.
 */
function exactLong(value: unknown): unknown {
  return typeof value === 'bigint' ? Long.fromBigInt(value) : value;
}

/** A decoded record (an instance of avsc's generated class) as a plain sub-document. */
function recordFinisher(type: avro.types.RecordType, records: Map<avro.Type, Finish>): Finisher {
  const known = records.get(type);
  if (known) return known;
  const steps: Array<{ name: string; finish: Finish | null }> = [];
  const finish: Finish = (value) => {
    const record = value as Record<string, unknown>;
    const out: Document = {};
    for (const step of steps) {
      const v = record[step.name];
      if (v !== undefined) out[step.name] = step.finish === null ? v : step.finish(v);
    }
    return out;
  };
  // Registered before its fields: a recursive schema refers to its own record type.
  records.set(type, finish);
  for (const field of type.fields) {
    const fieldFinish = finisherOf(field.type, records);
    if (fieldFinish === UNSUPPORTED) return UNSUPPORTED;
    steps.push({ name: field.name, finish: fieldFinish });
  }
  return finish;
}

/** `{ <branch>: value }` as the value alone, finished as its branch (the branch is not data). */
function wrappedUnionFinisher(
  type: avro.types.WrappedUnionType,
  records: Map<avro.Type, Finish>,
): Finisher {
  const branches = new Map<string, Finish | null>();
  for (const branch of type.types) {
    if (branch.typeName === 'null') continue;
    const finish = finisherOf(branch, records);
    if (finish === UNSUPPORTED) return UNSUPPORTED;
    branches.set(branch.branchName!, finish);
  }
  return (value) => {
    if (value === null) return null;
    const wrapper = value as Record<string, unknown>;
    for (const name of Object.keys(wrapper)) {
      const finish = branches.get(name);
      if (finish === undefined) break;
      const inner = wrapper[name];
      return finish === null ? inner : finish(inner);
    }
    throw new Error(`not a value of ${type.branchName ?? 'a union'}`);
  };
}
