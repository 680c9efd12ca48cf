import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import avro from 'avsc';
import { seeded } from '../../bench/support/numbers.ts';
import { type AvroSchema, fingerprintOf, parseSchema } from '../../runtime/schema/avro-schema.ts';
import type { RegisteredSchema } from '../../runtime/schema/schema-registry.ts';
import { ELEMENT_OID } from '../../services/sink-postgres/src/binary-array.ts';
import {
  compileTranscoder,
  type PayloadTranscoder,
} from '../../services/sink-postgres/src/payload-transcoder.ts';
import {
  mapTable,
  type TableConfig,
  type TableMapping,
} from '../../services/sink-postgres/src/table-mapping.ts';
import { parseArray } from '../support/pg-binary-array.ts';

// The transcoder must put into each column exactly what the sink's fallback path writes: the
// record the avsc decoder reads (writer resolved to reader), in PostgreSQL's binary form. So
// every property test below decodes each payload with avsc and compares column by column.

// --- schemas --------------------------------------------------------------------------------

let nextSchemaId = 1;

/** A schema as the registry keeps it: the JSON it stores is the export with attributes. */
function registered(schema: AvroSchema, entity = 'thing'): RegisteredSchema {
  const type = parseSchema(schema);
  return {
    id: nextSchemaId++,
    entity,
    version: 1,
    fingerprint: fingerprintOf(type),
    schema: JSON.stringify(type.schema({ exportAttrs: true })),
    type,
  };
}

function projectSchema(entity: string): RegisteredSchema {
  const url = new URL(`../../schemas/${entity}.avsc`, import.meta.url);
  return registered(JSON.parse(readFileSync(url, 'utf8')) as AvroSchema, entity);
}

function record(name: string, fields: object[]): AvroSchema {
  return { type: 'record', name, fields } as AvroSchema;
}

function mappingOf(reader: RegisteredSchema, config?: TableConfig, keyField = 'id'): TableMapping {
  return mapTable({ entity: reader.entity, schema: reader, keyField }, config, 'public');
}

function compile(writer: RegisteredSchema, mapping: TableMapping): PayloadTranscoder {
  const transcoder = compileTranscoder(writer, mapping);
  assert.ok(transcoder, `a transcoder compiles for writer ${writer.schema}`);
  return transcoder;
}

const DATE = { type: 'int', logicalType: 'date' };
const TIMESTAMP = { type: 'long', logicalType: 'timestamp-millis' };

/** One field of every supported type, plain and in a union with null (both branch orders). */
const ALL_TYPES = record('AllTypes', [
  { name: 'id', type: 'string' },
  { name: 's', type: 'string' },
  { name: 'b', type: 'boolean' },
  { name: 'i', type: 'int' },
  { name: 'l', type: 'long' },
  { name: 'f', type: 'float' },
  { name: 'd', type: 'double' },
  { name: 'by', type: 'bytes' },
  { name: 'dt', type: DATE },
  { name: 'ts', type: TIMESTAMP },
  { name: 'ns', type: ['null', 'string'], default: null },
  { name: 'nb', type: ['null', 'boolean'], default: null },
  { name: 'ni', type: ['null', 'int'], default: null },
  { name: 'nl', type: ['null', 'long'], default: null },
  { name: 'nf', type: ['null', 'float'], default: null },
  { name: 'nd', type: ['null', 'double'], default: null },
  { name: 'nby', type: ['null', 'bytes'], default: null },
  { name: 'ndt', type: ['null', DATE], default: null },
  { name: 'nts', type: ['null', TIMESTAMP], default: null },
  { name: 'sn', type: ['string', 'null'], default: '' },
  { name: 'ln', type: ['long', 'null'], default: 0 },
]);

// --- seeded values --------------------------------------------------------------------------

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!;
const between = (random: Random, low: number, high: number): number =>
  low + Math.floor(random() * (high - low + 1));

const DAY_MS = 86_400_000;
const EPOCH_2000_MS = Date.UTC(2000, 0, 1);
// Years 0001..9999: what the decoder's ISO strings (and PostgreSQL's text input) can spell.
// Date.UTC maps years 0..99 to 1900..1999, so the first day is parsed instead.
const FIRST_DAY = Date.parse('0001-01-01T00:00:00.000Z') / DAY_MS;
const LAST_DAY = Date.UTC(9999, 11, 31) / DAY_MS;
const FIRST_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
// The random longs stay within [-2^52, 2^52-1]; the tests at the end cover the rest of the
// 64-bit range.
const LONG_LIMIT = 2 ** 52;

const EDGE_STRINGS = [
  '',
  'a',
  'NULL',
  'quote \' " \\ , { } ( ) NULL',
  '\t\n\r',
  'é',
  'üñíçødé',
  '日本語テキスト',
  '😀',
  '👍🏽 👨‍👩‍👧',
  'x'.repeat(63),
  'y'.repeat(64),
  'é'.repeat(100),
];
const CHAR_RANGES: Array<[number, number]> = [
  [0x20, 0x7e], // ASCII
  [0xa0, 0x7ff], // two UTF-8 bytes
  [0x800, 0xd7ff], // three bytes, below the surrogates (lone surrogates: see the bug test)
  [0xe000, 0xfffd],
  [0x10000, 0x1faff], // four bytes (a surrogate pair in JavaScript)
];

function randomString(random: Random): string {
  if (random() < 0.3) return pick(random, EDGE_STRINGS);
  const length = random() < 0.2 ? between(random, 60, 300) : between(random, 0, 40);
  let s = '';
  for (let i = 0; i < length; i++) {
    const [low, high] = pick(random, CHAR_RANGES);
    s += String.fromCodePoint(between(random, low, high));
  }
  return s;
}

function randomBytes(random: Random): Buffer {
  if (random() < 0.2) return pick(random, [Buffer.alloc(0), Buffer.from([0]), Buffer.alloc(70)]);
  return Buffer.from(
    Array.from({ length: between(random, 0, 120) }, () => between(random, 0, 255)),
  );
}

/** An integer with a random bit length below `bits`, so small and large values both occur. */
function randomMagnitude(random: Random, bits: number): number {
  return Math.floor(random() * 2 ** between(random, 0, bits));
}

const EDGE_INTS = [0, 1, -1, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31)];
const EDGE_LONGS = [
  0,
  1,
  -1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  -(2 ** 32),
  LONG_LIMIT - 1,
  -LONG_LIMIT,
];
const SPECIAL_FLOATS = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const EDGE_FLOATS = [...SPECIAL_FLOATS, 0.1, 1.5, 3.4028234663852886e38, 1.401298464324817e-45];
const EDGE_DOUBLES = [...SPECIAL_FLOATS, 0.1, Number.MAX_VALUE, Number.MIN_VALUE, -1e-310];
const EDGE_DAYS = [0, -1, 10_957, 10_956, -25_567, 11_016, FIRST_DAY, LAST_DAY];
const EDGE_MS = [0, -1, 1, EPOCH_2000_MS, EPOCH_2000_MS - 1, -2_208_988_800_000, FIRST_MS, LAST_MS];

function randomDouble(random: Random): number {
  // Any bit pattern: denormals, NaNs with payloads, huge and tiny exponents.
  const bytes = Buffer.from(Array.from({ length: 8 }, () => between(random, 0, 255)));
  return bytes.readDoubleLE(0);
}

/** A value `type` accepts (avsc's in-memory form; the project's logical types take numbers). */
function randomValue(type: avro.Type, random: Random): unknown {
  if (avro.Type.isType(type, 'union')) {
    const branches = (type as unknown as { types: avro.Type[] }).types;
    const branch = pick(random, branches);
    return branch.typeName === 'null' ? null : randomValue(branch, random);
  }
  const edge = random() < 0.3;
  switch (type.typeName) {
    case 'null':
      return null;
    case 'string':
      return randomString(random);
    case 'bytes':
      return randomBytes(random);
    case 'boolean':
      return random() < 0.5;
    case 'int':
      return edge ? pick(random, EDGE_INTS) : randomMagnitude(random, 32) - 2 ** 31;
    case 'long': {
      if (edge) return pick(random, EDGE_LONGS);
      const magnitude = randomMagnitude(random, 52);
      return random() < 0.5 ? magnitude : -magnitude;
    }
    case 'float':
      return edge
        ? pick(random, EDGE_FLOATS)
        : Math.fround((random() - 0.5) * 10 ** between(random, -40, 38));
    case 'double':
      return edge ? pick(random, EDGE_DOUBLES) : randomDouble(random);
    case 'enum':
      return pick(random, (type as unknown as { symbols: string[] }).symbols);
    case 'logical:date':
      return edge ? pick(random, EDGE_DAYS) : between(random, FIRST_DAY, LAST_DAY);
    case 'logical:timestamp-millis':
      return edge ? pick(random, EDGE_MS) : between(random, FIRST_MS, LAST_MS);
    default:
      throw new Error(`no generator for ${type.typeName}`);
  }
}

function randomRecord(writer: RegisteredSchema, random: Random): Record<string, unknown> {
  const fields = (writer.type as avro.types.RecordType).fields;
  return Object.fromEntries(fields.map((f) => [f.name, randomValue(f.type, random)]));
}

// --- binary arrays --------------------------------------------------------------------------

/** An element as a comparable value (floats compare with Object.is: NaN = NaN, -0 ≠ 0). */
function elementValue(sqlType: string, element: Buffer | null): unknown {
  if (element === null) return null;
  const sized = (n: number): Buffer => {
    assert.equal(element.length, n, `${sqlType} element length`);
    return element;
  };
  switch (sqlType) {
    case 'text':
    case 'bytea':
      return Buffer.from(element);
    case 'boolean': {
      const byte = sized(1)[0]!;
      assert.ok(byte === 0 || byte === 1, `bool byte ${byte}`);
      return byte === 1;
    }
    case 'integer':
    case 'date':
      return sized(4).readInt32BE(0);
    case 'bigint':
    case 'timestamptz':
      return sized(8).readBigInt64BE(0);
    case 'real':
      return sized(4).readFloatBE(0);
    case 'double precision':
      return sized(8).readDoubleBE(0);
    default:
      throw new Error(`no reader for ${sqlType}`);
  }
}

/**
 * What PostgreSQL stores for a decoded value: text as its UTF-8 bytes, date as days and
 * timestamptz as microseconds since 2000-01-01 (the binary forms date_recv and
 * timestamptz_recv read), real as the nearest float4.
 */
function pgValue(sqlType: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (sqlType) {
    case 'text':
      return Buffer.from(value as string, 'utf8');
    case 'bytea':
      return Buffer.from(value as Buffer);
    case 'boolean':
    case 'integer':
    case 'double precision':
      return value;
    case 'bigint':
      return BigInt(value as number);
    case 'real':
      return Math.fround(value as number);
    case 'date':
      return (Date.parse(`${value as string}T00:00:00.000Z`) - EPOCH_2000_MS) / DAY_MS;
    case 'timestamptz':
      return (BigInt(Date.parse(value as string)) - BigInt(EPOCH_2000_MS)) * 1000n;
    default:
      throw new Error(`no conversion for ${sqlType}`);
  }
}

// --- the property ---------------------------------------------------------------------------

/**
 * Encodes `count` random records, each with a writer drawn from `writers`, transcodes them all
 * into one set of builders (as the sink does for a batch mixing schema versions) and checks
 * every column against the avsc decoder. Also checks that `check` accepts each payload and that
 * every strict prefix of (and one byte appended to) the first payloads is refused by both.
 */
function assertTranscodesLikeDecoder(
  mapping: TableMapping,
  writers: readonly RegisteredSchema[],
  seed: number,
  count = 400,
): void {
  const random = seeded(seed);
  const reader = mapping.reader;
  const transcoders = new Map(writers.map((w) => [w, compile(w, mapping)]));
  const resolvers = new Map(
    writers.map((w) => [w, w === reader ? undefined : reader.type.createResolver(w.type)]),
  );
  const rows: Array<{ payload: Buffer; writer: RegisteredSchema }> = [];
  for (let i = 0; i < count; i++) {
    const writer = pick(random, writers);
    rows.push({ payload: writer.type.toBuffer(randomRecord(writer, random)), writer });
  }
  const columns = transcoders.get(writers[0]!)!.builders(count);
  for (const { payload, writer } of rows) {
    transcoders.get(writer)!.append(payload, columns);
    transcoders.get(writer)!.check(payload);
  }
  const decoded = rows.map(
    ({ payload, writer }) =>
      reader.type.fromBuffer(payload, resolvers.get(writer)) as Record<string, unknown>,
  );
  assert.equal(columns.length, mapping.columns.length);
  mapping.columns.forEach((column, c) => {
    const parsed = parseArray(columns[c]!.finish());
    const expected = decoded.map((r) => pgValue(column.sqlType, r[column.field]));
    assert.deepEqual(
      { ndim: parsed.ndim, oid: parsed.oid, length: parsed.length, lowerBound: parsed.lowerBound },
      { ndim: 1, oid: ELEMENT_OID[column.sqlType], length: count, lowerBound: 1 },
      `header of column ${column.column}`,
    );
    assert.equal(parsed.hasNull, expected.includes(null), `null flag of ${column.column}`);
    const actual = parsed.elements.map((e) => elementValue(column.sqlType, e));
    for (let r = 0; r < count; r++) {
      assert.deepEqual(
        actual[r],
        expected[r],
        `row ${r}, column ${column.column} (${column.sqlType}); record ${JSON.stringify(decoded[r])}`,
      );
    }
  });
  for (const { payload, writer } of rows.slice(0, 25)) {
    const transcoder = transcoders.get(writer)!;
    for (let cut = 0; cut < payload.length; cut++) {
      const prefix = payload.subarray(0, cut);
      assert.throws(() => transcoder.append(prefix, transcoder.builders(1)), Error);
      assert.throws(() => transcoder.check(prefix), Error);
    }
    const longer = Buffer.concat([payload, Buffer.from([0])]);
    assert.throws(() => transcoder.append(longer, transcoder.builders(1)), /trailing/);
    assert.throws(() => transcoder.check(longer), /trailing/);
  }
}

test('todo.avsc: every column equals what the decoder reads', () => {
  const todo = projectSchema('todo');
  assertTranscodesLikeDecoder(mappingOf(todo), [todo], 1);
});

test('user.avsc: every column equals what the decoder reads (bigint key, date, timestamps)', () => {
  const user = projectSchema('user');
  assertTranscodesLikeDecoder(mappingOf(user), [user], 2);
});

test('every supported type, plain and nullable, transcodes like the decoder reads it', () => {
  const all = registered(ALL_TYPES);
  const mapping = mappingOf(all);
  // The mapping must hold each supported SQL type, or the property would cover less than it says.
  assert.deepEqual(
    new Set(mapping.columns.map((c) => c.sqlType)),
    new Set(Object.keys(ELEMENT_OID)),
  );
  assertTranscodesLikeDecoder(mapping, [all], 3, 1000);
});

test('an evolved reader: fields the writer lacks get the reader default; old and new writers share one batch', () => {
  const v1Fields = [
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'count', type: ['null', 'long'], default: null },
  ];
  const added = [
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'label', type: 'string', default: 'none ✓' },
    { name: 'rank', type: 'int', default: -7 },
    { name: 'big', type: 'long', default: 1_099_511_627_776 },
    { name: 'ratio', type: 'double', default: 0.5 },
    { name: 'f32', type: 'float', default: 0.1 },
    { name: 'flag', type: 'boolean', default: true },
    { name: 'since', type: DATE, default: -1 },
    { name: 'at', type: TIMESTAMP, default: 1_700_000_000_123 },
    { name: 'maybe', type: ['long', 'null'], default: 5 },
    { name: 'when', type: ['null', TIMESTAMP], default: null },
  ];
  const v1 = registered(record('Thing', v1Fields));
  const v2 = registered(record('Thing', [...v1Fields, ...added]));
  const mapping = mappingOf(v2);
  assertTranscodesLikeDecoder(mapping, [v1, v2], 4);

  // The defaults themselves, so a decoder that also ignored them could not make this pass.
  const columns = compile(v1, mapping).builders(1);
  compile(v1, mapping).append(v1.type.toBuffer({ id: 'k', name: 'n', count: null }), columns);
  const value = (field: string): unknown => {
    const index = mapping.columns.findIndex((c) => c.field === field);
    return elementValue(
      mapping.columns[index]!.sqlType,
      parseArray(columns[index]!.finish()).elements[0]!,
    );
  };
  assert.equal(value('note'), null);
  assert.deepEqual(value('label'), Buffer.from('none ✓'));
  assert.equal(value('rank'), -7);
  assert.equal(value('big'), 1_099_511_627_776n);
  assert.equal(value('f32'), Math.fround(0.1));
  assert.equal(value('flag'), true);
  assert.equal(value('since'), -1 - 10_957);
  assert.equal(value('at'), (1_700_000_000_123n - 946_684_800_000n) * 1000n);
  assert.equal(value('maybe'), 5n);
});

test('writer fields the reader lacks are skipped, whatever their type', () => {
  const kept = [
    { name: 'id', type: 'string' },
    { name: 'n', type: ['null', 'long'], default: null },
  ];
  const extra = [
    { name: 'x_string', type: 'string' },
    { name: 'x_bytes', type: 'bytes' },
    { name: 'x_bool', type: 'boolean' },
    { name: 'x_int', type: 'int' },
    { name: 'x_long', type: 'long' },
    { name: 'x_float', type: 'float' },
    { name: 'x_double', type: 'double' },
    { name: 'x_null', type: 'null' },
    { name: 'x_enum', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN', 'BLUE'] } },
    { name: 'x_date', type: DATE },
    { name: 'x_ts', type: ['null', TIMESTAMP] },
    { name: 'x_union', type: ['null', 'string'] },
  ];
  // Extra fields before, between and after the kept ones: skipping must move the cursor right.
  const writer = registered(
    record('Wide', [extra[0]!, kept[0]!, ...extra.slice(1, 6), kept[1]!, ...extra.slice(6)]),
  );
  const reader = registered(record('Wide', kept));
  assertTranscodesLikeDecoder(mappingOf(reader), [writer], 5);
});

test('int written, long read (and float written, double read): promoted values fill bigint and double columns', () => {
  const writer = registered(
    record('Promoted', [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'int' },
      { name: 'nn', type: ['null', 'int'], default: null },
      { name: 'x', type: 'float' },
    ]),
  );
  const reader = registered(
    record('Promoted', [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'long' },
      { name: 'nn', type: ['null', 'long'], default: null },
      { name: 'x', type: 'double' },
    ]),
  );
  const mapping = mappingOf(reader);
  assert.deepEqual(
    mapping.columns.map((c) => c.sqlType),
    ['text', 'bigint', 'bigint', 'double precision'],
  );
  assertTranscodesLikeDecoder(mapping, [writer, reader], 6);
});

test('renamed columns and a configured type the transcoder covers still receive their field', () => {
  const schema = registered(
    record('Renamed', [
      { name: 'id', type: 'long' },
      { name: 'small', type: 'int' },
      { name: 'title', type: ['null', 'string'], default: null },
    ]),
  );
  const mapping = mappingOf(schema, {
    columns: { id: 'thing_id', small: { column: 'small64', type: 'bigint' }, title: 'heading' },
  });
  assert.deepEqual(
    mapping.columns.map((c) => `${c.column} ${c.sqlType}`),
    ['thing_id bigint', 'small64 bigint', 'heading text'],
  );
  assertTranscodesLikeDecoder(mapping, [schema], 7);
});

// --- what it does not cover ------------------------------------------------------------------

test('schemas and columns the transcoder does not cover compile to undefined (the sink decodes instead)', () => {
  const base = [
    { name: 'id', type: 'string' },
    { name: 'n', type: 'long' },
  ];
  const same = (fields: object[]) => {
    const schema = registered(record('Thing', [...base, ...fields]));
    return compileTranscoder(schema, mappingOf(schema));
  };
  // Control: the same base compiles, so each undefined below is due to the one field added.
  assert.ok(same([]));
  assert.ok(same([{ name: 'x', type: ['null', 'string'], default: null }]));

  const jsonOrUnsupported: Array<[string, object]> = [
    ['record', { type: 'record', name: 'Inner', fields: [{ name: 'a', type: 'int' }] }],
    ['array', { type: 'array', items: 'string' }],
    ['map', { type: 'map', values: 'long' }],
    ['enum', { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN'] }],
    ['fixed', { type: 'fixed', name: 'Four', size: 4 }],
    ['union of two non-null types', ['string', 'long']],
    ['nullable union of two types', ['null', 'string', 'long']],
  ];
  for (const [what, type] of jsonOrUnsupported)
    assert.equal(same([{ name: 'x', type }]), undefined, what);

  // A reader field with aliases: renames are left to the decoder's resolution.
  const aliased = registered(
    record('Thing', [...base, { name: 'x', type: 'string', aliases: ['old_x'] }]),
  );
  assert.equal(compileTranscoder(aliased, mappingOf(aliased)), undefined, 'aliases');

  // Columns whose configured SQL type has no binary element the transcoder knows.
  const plain = registered(record('Thing', [...base, { name: 'x', type: 'string' }]));
  assert.ok(compileTranscoder(plain, mappingOf(plain)));
  for (const type of ['varchar(40)', 'jsonb', 'int8', 'timestamp']) {
    const mapping = mappingOf(plain, { columns: { x: { column: 'x', type } } });
    assert.equal(compileTranscoder(plain, mapping), undefined, type);
  }
  // A long read into a text column: no appender turns one into the other.
  assert.equal(
    compileTranscoder(plain, mappingOf(plain, { columns: { n: { column: 'n', type: 'text' } } })),
    undefined,
  );

  // A writer field the reader lacks that cannot be skipped without a full decoder.
  const writer = registered(
    record('Thing', [...base, { name: 'tags', type: { type: 'array', items: 'string' } }]),
  );
  const reader = registered(record('Thing', base));
  assert.ok(compileTranscoder(reader, mappingOf(reader)));
  assert.equal(compileTranscoder(writer, mappingOf(reader)), undefined, 'unskippable writer field');
});

test('non-canonical encodings other writers may produce are read as the decoder reads them', () => {
  const schema = registered(
    record('Loose', [
      { name: 'id', type: 'string' },
      { name: 'b', type: 'boolean' },
      { name: 'n', type: 'long' },
    ]),
  );
  const mapping = mappingOf(schema);
  const transcoder = compile(schema, mapping);
  // A boolean byte of 2 (avsc reads any non-zero byte as true) and -3 as a 3-byte varint.
  const payload = Buffer.from([0x02, 0x6b, 0x02, 0x85, 0x80, 0x00]);
  const decoded = schema.type.fromBuffer(payload) as Record<string, unknown>;
  assert.deepEqual({ ...decoded }, { id: 'k', b: true, n: -3 });
  const columns = transcoder.builders(1);
  transcoder.append(payload, columns);
  transcoder.check(payload);
  assert.deepEqual(
    mapping.columns.map((c, i) =>
      elementValue(c.sqlType, parseArray(columns[i]!.finish()).elements[0]!),
    ),
    [Buffer.from('k'), true, -3n],
  );
});

// --- corrupt payloads ------------------------------------------------------------------------

test('corrupt payloads make append() and check() throw', () => {
  const schema = registered(
    record('Corrupt', [
      { name: 'id', type: 'string' },
      { name: 'u', type: ['null', 'string'], default: null },
      { name: 'n', type: 'long' },
    ]),
  );
  const transcoder = compile(schema, mappingOf(schema));
  const valid = schema.type.toBuffer({ id: 'k', u: null, n: 5 });
  // Control: the bytes the corruptions start from are valid.
  assert.deepEqual(valid, Buffer.from([0x02, 0x6b, 0x00, 0x0a]));
  transcoder.append(valid, transcoder.builders(1));
  transcoder.check(valid);

  const corrupt: Array<[string, Buffer, RegExp]> = [
    ['truncated', valid.subarray(0, 3), /truncated/],
    ['empty', Buffer.alloc(0), /truncated/],
    ['trailing bytes', Buffer.from([...valid, 0x00, 0x01]), /2 trailing bytes/],
    ['union index 2 of 2 branches', Buffer.from([0x02, 0x6b, 0x04, 0x0a]), /union/],
    ['union index -1', Buffer.from([0x02, 0x6b, 0x01, 0x0a]), /union/],
    [
      'varint of 11 bytes (a non-canonical 0)',
      Buffer.from([0x02, 0x6b, 0x00, ...Array(10).fill(0x80), 0x00]),
      /10 bytes/,
    ],
    [
      'varint past 64 bits',
      Buffer.from([0x02, 0x6b, 0x00, ...Array(9).fill(0xff), 0x7f]),
      /64 bits/,
    ],
    ['negative string length', Buffer.from([0x01, 0x6b, 0x00, 0x0a]), /truncated/],
    ['string longer than the payload', Buffer.from([0x14, 0x6b, 0x00, 0x0a]), /truncated/],
    [
      'union string longer than the payload',
      Buffer.from([0x02, 0x6b, 0x02, 0x08, 0x61]),
      /truncated/,
    ],
  ];
  for (const [what, payload, message] of corrupt) {
    assert.throws(
      () => transcoder.append(payload, transcoder.builders(1)),
      message,
      `append: ${what}`,
    );
    assert.throws(() => transcoder.check(payload), message, `check: ${what}`);
  }
});

test('a corrupt writer field the reader skips is still refused', () => {
  const writer = registered(
    record('Skip', [
      { name: 'id', type: 'string' },
      { name: 'gone', type: ['null', 'bytes'], default: null },
      { name: 'n', type: 'int' },
    ]),
  );
  const reader = registered(
    record('Skip', [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'int' },
    ]),
  );
  const transcoder = compile(writer, mappingOf(reader));
  const valid = writer.type.toBuffer({ id: 'k', gone: Buffer.from([1, 2]), n: 3 });
  transcoder.append(valid, transcoder.builders(1));
  // Claims 100 bytes for the skipped field, then ends.
  const corrupt = Buffer.from([0x02, 0x6b, 0x02, 0xc8, 0x01, 0x01, 0x02, 0x06]);
  assert.throws(() => transcoder.append(corrupt, transcoder.builders(1)), /truncated/);
  assert.throws(() => transcoder.check(corrupt), /truncated/);
  // A bad union index in the skipped field.
  const badBranch = Buffer.from([0x02, 0x6b, 0x06, 0x06]);
  assert.throws(() => transcoder.append(badBranch, transcoder.builders(1)), /union/);
  assert.throws(() => transcoder.check(badBranch), /union/);
});

// --- found while writing these tests --------------------------------------------------------

test('longs from 2^52 up to avsc’s limit are transcoded like the decoder reads them', () => {
  const schema = registered(
    record('Big', [
      { name: 'id', type: 'string' },
      { name: 'n', type: 'long' },
      { name: 'ts', type: TIMESTAMP },
    ]),
  );
  const transcoder = compile(schema, mappingOf(schema));
  // avsc writes and reads these exactly (its own limit is ±(2^53-2)); ts is year 150000.
  for (const n of [2 ** 52, 2 ** 52 + 1, 2 ** 53 - 2]) {
    const payload = schema.type.toBuffer({ id: 'k', n, ts: 4_670_000_000_000_000 });
    const decoded = schema.type.fromBuffer(payload) as { n: number };
    assert.equal(decoded.n, n);
    const columns = transcoder.builders(1);
    transcoder.append(payload, columns);
    assert.equal(parseArray(columns[1]!.finish()).elements[0]!.readBigInt64BE(0), BigInt(n));
  }
});

test('a short string with a lone surrogate is transcoded to the UTF-8 the decoder reads', () => {
  const schema = registered(record('Text', [{ name: 'id', type: 'string' }]));
  const transcoder = compile(schema, mappingOf(schema));
  const payload = schema.type.toBuffer({ id: 'a\ud800b' });
  const decoded = schema.type.fromBuffer(payload) as { id: string };
  const columns = transcoder.builders(1);
  transcoder.append(payload, columns);
  assert.deepEqual(parseArray(columns[0]!.finish()).elements[0], Buffer.from(decoded.id));
});

test('longs over the whole 64-bit range are transcoded exactly, also in a field the table skips', () => {
  const writer = registered(
    record('Wide', [
      { name: 'id', type: 'long' },
      { name: 'gone', type: 'long' },
      { name: 'maybe', type: ['null', 'long'], default: null },
    ]),
  );
  const reader = registered(
    record('Wide', [
      { name: 'id', type: 'long' },
      { name: 'maybe', type: ['null', 'long'], default: null },
    ]),
  );
  const transcoder = compile(writer, mappingOf(reader));
  const edges = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 53n - 1n];
  for (const value of edges) {
    const exact = Number.isSafeInteger(Number(value)) ? Number(value) : value;
    const payload = writer.type.toBuffer({ id: exact, gone: exact, maybe: exact });
    const columns = transcoder.builders(1);
    transcoder.append(payload, columns);
    transcoder.check(payload);
    for (const column of columns) {
      assert.equal(parseArray(column.finish()).elements[0]!.readBigInt64BE(0), value);
    }
  }
});
