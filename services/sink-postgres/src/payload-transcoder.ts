import avro from 'avsc';
import type { RegisteredSchema } from '../../../runtime/schema/schema-registry.ts';
import { BinaryArrayBuilder, ELEMENT_BYTES, ELEMENT_OID } from './binary-array.ts';
import type { TableMapping } from './table-mapping.ts';

/**
 * Turns Avro payloads written with one writer schema straight into the binary column arrays of
 * a table's upsert, without building a JavaScript record per event: each writer field is read
 * from the payload and appended to its column (or skipped when the table has no column for it),
 * and reader fields the writer does not have get their default. Decoding records and escaping
 * them into text arrays was most of a PostgreSQL sink's CPU time.
 *
 * Covers the field types tables are usually made of: strings, booleans, ints, longs, floats,
 * doubles, bytes, `date`, `timestamp-millis`, and unions of null with one of them, mapped to the
 * SQL types the table mapping derives for them. `compileTranscoder` returns undefined for any
 * other schema or column type, and the sink then falls back to decoded records.
 *
 * Avro binary encoding: https://avro.apache.org/docs/1.11.1/specification/#binary-encoding
 */
export class PayloadTranscoder {
  private readonly cursor: Cursor = { buf: Buffer.alloc(0), pos: 0 };
  /** Bytes per row each column took last time, to size the next builders right away. */
  private readonly bytesPerRow: number[];

  /** Use `compileTranscoder`. */
  constructor(
    private readonly steps: readonly Step[],
    private readonly skips: readonly Step[],
    private readonly elementOids: readonly number[],
  ) {
    this.bytesPerRow = elementOids.map((oid) => ELEMENT_BYTES[oid] ?? 36);
  }

  /** One builder per column of the mapping, in the mapping's column order. */
  builders(expectedRows: number): BinaryArrayBuilder[] {
    // Growing a builder copies it: start from what the rows took last time, plus a margin.
    return this.elementOids.map(
      (oid, i) =>
        new BinaryArrayBuilder(oid, 64 + Math.ceil(expectedRows * this.bytesPerRow[i]! * 1.2)),
    );
  }

  /** Remembers how much room the rows of these (finished) builders took. */
  learn(columns: readonly BinaryArrayBuilder[]): void {
    columns.forEach((column, i) => {
      if (column.length > 0) this.bytesPerRow[i] = column.byteLength / column.length;
    });
  }

  /**
   * Appends one row. Throws an Error saying what is wrong when the payload does not hold a record
   * of the writer schema (truncated, trailing bytes, bad union branch, a long beyond 64 bits, an
   * int or timestamp beyond a safe integer); then some
   * columns may have the row and others not, so the builders must be dropped.
   */
  append(payload: Buffer, columns: BinaryArrayBuilder[]): void {
    // One cursor for every payload: it is the only per-event allocation left.
    const cursor = this.cursor;
    cursor.buf = payload;
    cursor.pos = 0;
    for (const step of this.steps) step(cursor, columns);
    if (cursor.pos !== payload.length)
      throw new Error(`${payload.length - cursor.pos} trailing bytes`);
  }

  /**
   * Checks that the payload holds a record of the writer schema without appending it (for an
   * event a later one of the same key supersedes: it is not written, but a corrupt one must
   * still reach the dead letters). Throws like `append`.
   */
  check(payload: Buffer): void {
    const cursor = this.cursor;
    cursor.buf = payload;
    cursor.pos = 0;
    for (const skip of this.skips) skip(cursor, []);
    if (cursor.pos !== payload.length)
      throw new Error(`${payload.length - cursor.pos} trailing bytes`);
  }
}

interface Cursor {
  buf: Buffer;
  pos: number;
}

type Step = (cursor: Cursor, columns: BinaryArrayBuilder[]) => void;

/** How one (non-union) writer type is read and appended to a column of this element type. */
type Appender = (cursor: Cursor, column: BinaryArrayBuilder) => void;

const EPOCH_2000_MS = Date.UTC(2000, 0, 1);
const EPOCH_2000_DAYS = EPOCH_2000_MS / 86_400_000;

/**
 * A transcoder from payloads of `writer` to the columns of `mapping` (whose reader schema is
 * `mapping.reader`), or undefined when a field or column is of a kind it does not cover.
 */
export function compileTranscoder(
  writer: RegisteredSchema,
  mapping: TableMapping,
): PayloadTranscoder | undefined {
  const writerType = writer.type;
  const readerType = mapping.reader.type;
  if (!(writerType instanceof avro.types.RecordType)) return undefined;
  if (!(readerType instanceof avro.types.RecordType)) return undefined;
  const readerFields = new Map(readerType.fields.map((f) => [f.name, f]));
  // Aliases rename fields between versions; resolving them is left to the decoder.
  if (readerType.fields.some((f) => f.aliases.length > 0)) return undefined;
  const elementOids: number[] = [];
  for (const column of mapping.columns) {
    const oid = ELEMENT_OID[column.sqlType];
    if (oid === undefined || column.kind === 'json') return undefined;
    elementOids.push(oid);
  }
  const columnOf = new Map(mapping.columns.map((c, i) => [c.field, i]));
  const steps: Step[] = [];
  const skips: Step[] = [];
  const written = new Set<string>();
  for (const field of writerType.fields) {
    const skip = skipperOf(field.type);
    if (!skip) return undefined;
    skips.push(skip);
    const index = readerFields.has(field.name) ? columnOf.get(field.name) : undefined;
    if (index === undefined) {
      steps.push(skip);
      continue;
    }
    const append = unionAppender(field.type, elementOids[index]!);
    if (!append) return undefined;
    steps.push((cursor, columns) => append(cursor, columns[index]!));
    written.add(field.name);
  }
  // Reader fields the writer did not have: their default, the same for every row.
  const rawFields = (JSON.parse(mapping.reader.schema) as { fields: RawField[] }).fields;
  for (const [field, index] of columnOf) {
    if (written.has(field)) continue;
    const raw = rawFields.find((f) => f.name === field);
    if (!raw || !('default' in raw)) return undefined;
    const constant = defaultAppender(
      raw.default,
      readerFields.get(field)!.type,
      elementOids[index]!,
    );
    if (!constant) return undefined;
    steps.push((_cursor, columns) => constant(columns[index]!));
  }
  return new PayloadTranscoder(steps, skips, elementOids);
}

interface RawField {
  name: string;
  default?: unknown;
}

/** Reads a writer type that may be a union with null. */
function unionAppender(type: avro.Type, oid: number): Appender | undefined {
  if (!avro.Type.isType(type, 'union')) return appenderOf(type, oid);
  const branches = (type as unknown as { types: avro.Type[] }).types.map((t) =>
    t.typeName === 'null'
      ? (_cursor: Cursor, column: BinaryArrayBuilder) => column.appendNull()
      : appenderOf(t, oid),
  );
  if (branches.some((b) => b === undefined)) return undefined;
  const byIndex = branches as Appender[];
  return (cursor, column) => {
    const branch = byIndex[readLong(cursor)];
    if (!branch) throw new Error('union branch out of range');
    branch(cursor, column);
  };
}

/** Reads one non-union writer type into a column of element type `oid`. */
function appenderOf(type: avro.Type, oid: number): Appender | undefined {
  // Logical types are named `logical:<name>`.
  switch (`${type.typeName}>${oid}`) {
    case 'string>25':
      return (cursor, column) => {
        const start = readFixed(cursor, readLong(cursor));
        column.appendText(cursor.buf, start, cursor.pos);
      };
    case 'bytes>17':
      return (cursor, column) => {
        const start = readFixed(cursor, readLong(cursor));
        column.appendBytes(cursor.buf, start, cursor.pos);
      };
    case 'boolean>16':
      return (cursor, column) => {
        if (cursor.pos >= cursor.buf.length) throw new Error('truncated boolean');
        column.appendBool(cursor.buf[cursor.pos++] !== 0);
      };
    case 'int>23':
      return (cursor, column) => column.appendInt4(readInt(cursor));
    case 'int>20':
      return (cursor, column) => column.appendInt8(readLong(cursor));
    case 'long>20':
      return (cursor, column) => {
        // A long beyond ±(2^53 - 1), a 64-bit id, is a BigInt: `bigint` takes it whole.
        const value = readInt64(cursor);
        if (typeof value === 'number') column.appendInt8(value);
        else column.appendBigInt8(value);
      };
    case 'float>700':
      return (cursor, column) => column.appendFloat4(readFloat(cursor));
    case 'float>701':
      return (cursor, column) => column.appendFloat8(readFloat(cursor));
    case 'double>701':
      return (cursor, column) => column.appendFloat8(readDouble(cursor));
    case 'logical:timestamp-millis>1184':
      return (cursor, column) => appendTimestamp(readLong(cursor), column);
    case 'logical:date>1082':
      return (cursor, column) => column.appendInt4(readInt(cursor) - EPOCH_2000_DAYS);
    default:
      return undefined;
  }
}

/** A reader default (JSON, as in the schema) as a constant element, or undefined. */
function defaultAppender(
  value: unknown,
  type: avro.Type,
  oid: number,
): ((column: BinaryArrayBuilder) => void) | undefined {
  // A union's default belongs to its first branch.
  const branch = avro.Type.isType(type, 'union')
    ? (type as unknown as { types: avro.Type[] }).types[0]!
    : type;
  if (value === null) return branch.typeName === 'null' ? (c) => c.appendNull() : undefined;
  // Encode the default with the writer encoding and transcode it like a payload.
  let encoded: Buffer;
  try {
    const plain = avro.Type.isType(branch, 'logical')
      ? (branch as unknown as { underlyingType: avro.Type }).underlyingType
      : branch;
    encoded = plain.toBuffer(value);
  } catch {
    return undefined;
  }
  const append = appenderOf(branch, oid);
  if (!append) return undefined;
  return (column) => append({ buf: encoded, pos: 0 }, column);
}

/** Skips a writer field the table has no column for. */
function skipperOf(type: avro.Type): Step | undefined {
  if (avro.Type.isType(type, 'union')) {
    const branches = (type as unknown as { types: avro.Type[] }).types.map(skipperOf);
    if (branches.some((b) => b === undefined)) return undefined;
    return (cursor, columns) => {
      const branch = branches[readLong(cursor)];
      if (!branch) throw new Error('union branch out of range');
      branch(cursor, columns);
    };
  }
  const name = avro.Type.isType(type, 'logical')
    ? (type as unknown as { underlyingType: avro.Type }).underlyingType.typeName
    : type.typeName;
  switch (name) {
    case 'null':
      return () => undefined;
    case 'boolean':
      return (cursor) => void readFixed(cursor, 1);
    case 'int':
    case 'enum':
      return (cursor) => void readLong(cursor);
    case 'long':
      return (cursor) => void readInt64(cursor);
    case 'float':
      return (cursor) => void readFixed(cursor, 4);
    case 'double':
      return (cursor) => void readFixed(cursor, 8);
    case 'string':
    case 'bytes':
      return (cursor) => void readFixed(cursor, readLong(cursor));
    default:
      return undefined;
  }
}

function appendTimestamp(ms: number, column: BinaryArrayBuilder): void {
  // PostgreSQL counts microseconds from 2000-01-01.
  const micros = (ms - EPOCH_2000_MS) * 1000;
  if (Number.isSafeInteger(micros)) column.appendInt8(micros);
  else column.appendBigInt8((BigInt(ms) - BigInt(EPOCH_2000_MS)) * 1000n);
}

/** Moves past `length` bytes; returns where they start. */
function readFixed(cursor: Cursor, length: number): number {
  const start = cursor.pos;
  const end = start + length;
  if (length < 0 || end > cursor.buf.length) throw new Error('truncated value');
  cursor.pos = end;
  return start;
}

function readFloat(cursor: Cursor): number {
  return cursor.buf.readFloatLE(readFixed(cursor, 4));
}

function readDouble(cursor: Cursor): number {
  return cursor.buf.readDoubleLE(readFixed(cursor, 8));
}

function readInt(cursor: Cursor): number {
  const value = readLong(cursor);
  if (value < -0x80000000 || value > 0x7fffffff) throw new Error('int out of range');
  return value;
}

/** A zig-zag variable-length long; throws when it is not a safe JavaScript integer. */
function readLong(cursor: Cursor): number {
  const value = readInt64(cursor);
  if (typeof value === 'bigint') throw new Error('long would lose precision');
  return value;
}

/**
 * A zig-zag variable-length long of the whole 64-bit range: a number when it is a safe integer,
 * a BigInt beyond (as the runtime's long type reads it, runtime/schema/exact-long-type.ts).
 */
function readInt64(cursor: Cursor): number | bigint {
  const { buf } = cursor;
  let pos = cursor.pos;
  let unsigned = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    if (pos >= buf.length) throw new Error('truncated long');
    if (i === 7) return readLongExactly(cursor);
    const byte = buf[pos++]!;
    unsigned += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  cursor.pos = pos;
  // Up to 7 bytes hold 49 bits, exact in a double. Zig-zag: even values are positive.
  return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
}

const TWO_64 = 2n ** 64n;

/** The rare long of 8 to 10 bytes (beyond ±2^48), decoded with BigInt. */
function readLongExactly(cursor: Cursor): number | bigint {
  const { buf } = cursor;
  let pos = cursor.pos;
  let unsigned = 0n;
  for (let i = 0; ; i++) {
    if (pos >= buf.length) throw new Error('truncated long');
    if (i === 10) throw new Error('long longer than 10 bytes');
    const byte = buf[pos++]!;
    unsigned |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) break;
  }
  if (unsigned >= TWO_64) throw new Error('long beyond 64 bits');
  cursor.pos = pos;
  const value = unsigned & 1n ? -((unsigned + 1n) >> 1n) : unsigned >> 1n;
  const small = Number(value);
  return Number.isSafeInteger(small) ? small : value;
}
