import avro from 'avsc';
import { type Document, Long } from 'mongodb';

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Turns one decoded Avro value into its BSON form; throws BsonValueProblem when it does not fit. */
export type BsonConverter = (value: unknown) => unknown;

/**
 * A value that does not fit its schema type. `path` is relative to the value the converter was
 * given (`''` for the value itself, `.street`, `[2]`, …); containers prefix their part on the way
 * out, so that the path costs nothing unless a value is bad.
 */
export class BsonValueProblem extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(problem, options);
    this.name = 'BsonValueProblem';
  }
}

const converters = new WeakMap<avro.Type, BsonConverter>();

/**
 * The converter of a schema type, built once per type and kept while the type lives. Led by the
 * schema, not the value: the logical types arrive as ISO strings (runtime/schema/logical-types.ts)
 * that only the type tells apart from plain strings. `timestamp-millis` becomes a BSON Date;
 * `date` a BSON Date at 00:00 UTC, because BSON has no date-only type and midnight UTC keeps range
 * queries and `$dateToString` exact. Nested records become plain sub-documents, wrapped unions
 * lose their wrapper (the branch is not data). Built ahead, so that converting a record walks
 * prepared functions: no type switch, closure or path string per value.
 */
export function bsonConverter(type: avro.Type): BsonConverter {
  let converter = converters.get(type);
  if (!converter) {
    converter = build(type);
    converters.set(type, converter);
  }
  return converter;
}

function build(type: avro.Type): BsonConverter {
  switch (type.typeName) {
    case 'null':
      return (value) => (value === null ? null : bad('null', value));
    case 'boolean':
      return (value) => (typeof value === 'boolean' ? value : bad('a boolean', value));
    case 'int':
    case 'long':
      return integer;
    case 'float':
    case 'double':
      return (value) => (typeof value === 'number' ? value : bad('a number', value));
    case 'string':
      return (value) => (typeof value === 'string' ? value : bad('a string', value));
    case 'enum':
      return (value) => (typeof value === 'string' ? value : bad('an enum symbol', value));
    case 'bytes':
    case 'fixed':
      return (value) => (Buffer.isBuffer(value) ? value : bad('bytes', value));
    case 'logical:timestamp-millis':
      return (value) => timestamp(value) ?? bad('a timestamp', value);
    case 'logical:date':
      return (value) => date(value) ?? bad('a date (YYYY-MM-DD)', value);
    case 'array':
      return arrayConverter((type as avro.types.ArrayType).itemsType);
    case 'map':
      return mapConverter((type as avro.types.MapType).valuesType);
    case 'record':
    case 'error':
      return recordConverter(type as avro.types.RecordType);
    case 'union:unwrapped':
      return unwrappedUnionConverter(type as avro.types.UnwrappedUnionType);
    case 'union:wrapped':
      return wrappedUnionConverter(type as avro.types.WrappedUnionType);
    default:
      // A logical type the project does not register is read as its underlying type by avsc.
      if (type instanceof avro.types.LogicalType) return bsonConverter(type.underlyingType);
      return () => {
        throw new BsonValueProblem(
          '',
          `the Avro type ${type.typeName} is not supported by the MongoDB sink`,
        );
      };
  }
}

function integer(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  return bad('an integer', value);
}

function arrayConverter(items: avro.Type): BsonConverter {
  const item = bsonConverter(items);
  return (value) => {
    if (!Array.isArray(value)) return bad('an array', value);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = within(`[${i}]`, item, value[i]);
    return out;
  };
}

function mapConverter(values: avro.Type): BsonConverter {
  const convert = bsonConverter(values);
  return (value) => {
    if (!isObject(value)) return bad('a map', value);
    const out: Document = {};
    for (const key of Object.keys(value)) out[key] = within(`.${key}`, convert, value[key]);
    return out;
  };
}

function recordConverter(type: avro.types.RecordType): BsonConverter {
  // Built on first use: a recursive schema refers to its own record type.
  let fields: Array<{ name: string; path: string; convert: BsonConverter }> | undefined;
  return (value) => {
    if (!isObject(value)) return bad('a record', value);
    fields ??= type.fields.map((f) => ({
      name: f.name,
      path: `.${f.name}`,
      convert: bsonConverter(f.type),
    }));
    const out: Document = {};
    for (const field of fields) {
      const v = value[field.name];
      if (v !== undefined) out[field.name] = within(field.path, field.convert, v);
    }
    return out;
  };
}

/**
 * `["null", T]`, the usual optional field, needs no search for its branch. Other unions take the
 * first branch that holds the value, as avsc itself does when it writes one.
 */
function unwrappedUnionConverter(type: avro.types.UnwrappedUnionType): BsonConverter {
  const expected = unionNames(type);
  const nonNull = type.types.filter((t) => t.typeName !== 'null');
  const nullable = nonNull.length < type.types.length;
  if (nonNull.length === 1) {
    const only = bsonConverter(nonNull[0]!);
    return (value) => {
      if (value === null) return nullable ? null : bad(expected, value);
      return only(value);
    };
  }
  const branches = type.types.map((t) => ({ type: t, convert: bsonConverter(t) }));
  return (value) => {
    const branch = branches.find((b) => b.type.isValid(value));
    return branch ? branch.convert(value) : bad(expected, value);
  };
}

function wrappedUnionConverter(type: avro.types.WrappedUnionType): BsonConverter {
  const expected = unionNames(type);
  const branches = new Map(type.types.map((t) => [t.branchName!, bsonConverter(t)]));
  return (value) => {
    if (value === null) return null;
    if (!isObject(value)) return bad(expected, value);
    const names = Object.keys(value);
    const convert = names.length === 1 ? branches.get(names[0]!) : undefined;
    if (!convert) return bad(expected, value);
    return convert(value[names[0]!]);
  };
}

/** Converts a part of a container, adding its place to the path of a problem found in it. */
function within(place: string, convert: BsonConverter, value: unknown): unknown {
  try {
    return convert(value);
  } catch (error) {
    if (error instanceof BsonValueProblem) {
      throw new BsonValueProblem(`${place}${error.path}`, error.problem, { cause: error.cause });
    }
    throw error;
  }
}

function bad(what: string, value: unknown): never {
  throw new BsonValueProblem('', `expected ${what}, got ${show(value)}`);
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
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
