import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { seeded } from '../../bench/support/numbers.ts';
import { BinaryArrayBuilder, ELEMENT_OID } from '../../services/sink-postgres/src/binary-array.ts';
import { type ParsedArray, parseArray } from '../support/pg-binary-array.ts';

/** The element bytes, failing on NULL: most tests expect values only. */
function values(parsed: ParsedArray): Buffer[] {
  return parsed.elements.map((e, i) => {
    assert.ok(e !== null, `element ${i} is NULL`);
    return e;
  });
}

test('a non-empty array has one dimension, lower bound 1, its element OID and length', () => {
  const builder = new BinaryArrayBuilder(ELEMENT_OID.integer!);
  for (const v of [10, 20, 30]) builder.appendInt4(v);
  assert.equal(builder.length, 3);
  const parsed = parseArray(builder.finish());
  assert.deepEqual(
    { ...parsed, elements: undefined },
    { ndim: 1, hasNull: false, oid: 23, length: 3, lowerBound: 1, elements: undefined },
  );
  assert.deepEqual(
    values(parsed).map((e) => e.readInt32BE(0)),
    [10, 20, 30],
  );
});

test('NULL elements have length -1 and set the has-nulls flag; without them it stays clear', () => {
  const mixed = new BinaryArrayBuilder(ELEMENT_OID.text!);
  mixed.appendBytes(Buffer.from('a'));
  mixed.appendNull();
  mixed.appendBytes(Buffer.from(''));
  mixed.appendNull();
  const parsed = parseArray(mixed.finish());
  assert.equal(parsed.hasNull, true);
  assert.deepEqual(parsed.elements, [Buffer.from('a'), null, Buffer.alloc(0), null]);

  const onlyNull = new BinaryArrayBuilder(ELEMENT_OID.bigint!);
  onlyNull.appendNull();
  assert.deepEqual(parseArray(onlyNull.finish()), {
    ndim: 1,
    hasNull: true,
    oid: 20,
    length: 1,
    lowerBound: 1,
    elements: [null],
  });

  // An empty string is a value, not a NULL.
  const noNull = new BinaryArrayBuilder(ELEMENT_OID.text!);
  noNull.appendBytes(Buffer.alloc(0));
  assert.equal(parseArray(noNull.finish()).hasNull, false);
});

test('int4 elements are 4 big-endian bytes across the whole int32 range', () => {
  const inputs = [0, 1, -1, 255, 256, -256, 2 ** 31 - 1, -(2 ** 31), 123_456_789, -987_654_321];
  const builder = new BinaryArrayBuilder(ELEMENT_OID.integer!);
  for (const v of inputs) builder.appendInt4(v);
  const elements = values(parseArray(builder.finish()));
  assert.deepEqual(
    elements.map((e) => e.length),
    inputs.map(() => 4),
  );
  assert.deepEqual(
    elements.map((e) => e.readInt32BE(0)),
    inputs,
  );
});

test('appendInt8 writes every safe integer exactly, negative and ±(2^53-1) included', () => {
  // Values around the 32-bit boundary exercise the high/low split and its borrow.
  const inputs = [
    0,
    1,
    -1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
    -(2 ** 32) + 1,
    -(2 ** 32),
    -(2 ** 32) - 1,
    2 ** 52,
    -(2 ** 52) - 1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    1_700_000_000_000_000,
    -946_684_800_000_000,
  ];
  const random = seeded(7);
  for (let i = 0; i < 200; i++) {
    // Random magnitudes spread over every bit length up to 53.
    const bits = 1 + (i % 53);
    const magnitude = Math.floor(random() * 2 ** bits);
    inputs.push(i % 2 === 0 ? magnitude : -magnitude);
  }
  const builder = new BinaryArrayBuilder(ELEMENT_OID.bigint!);
  for (const v of inputs) builder.appendInt8(v);
  const elements = values(parseArray(builder.finish()));
  assert.ok(elements.every((e) => e.length === 8));
  assert.deepEqual(
    elements.map((e) => e.readBigInt64BE(0)),
    inputs.map((v) => BigInt(v)),
  );
});

test('appendBigInt8 writes 64-bit integers beyond 2^53 exactly', () => {
  const inputs = [
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 62n + 12_345n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    -1n,
    0n,
  ];
  const builder = new BinaryArrayBuilder(ELEMENT_OID.bigint!);
  for (const v of inputs) builder.appendBigInt8(v);
  const elements = values(parseArray(builder.finish()));
  assert.ok(elements.every((e) => e.length === 8));
  assert.deepEqual(
    elements.map((e) => e.readBigInt64BE(0)),
    inputs,
  );
});

test('float4 and float8 elements keep NaN, infinities, negative zero and extremes', () => {
  const inputs = [
    0,
    -0,
    1.5,
    -2.25,
    0.1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    3.4028234663852886e38,
    1.401298464324817e-45,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ];
  const float4 = new BinaryArrayBuilder(ELEMENT_OID.real!);
  const float8 = new BinaryArrayBuilder(ELEMENT_OID['double precision']!);
  for (const v of inputs) {
    float4.appendFloat4(v);
    float8.appendFloat8(v);
  }
  const f4 = parseArray(float4.finish());
  const f8 = parseArray(float8.finish());
  assert.equal(f4.oid, 700);
  assert.equal(f8.oid, 701);
  assert.ok(values(f4).every((e) => e.length === 4));
  assert.ok(values(f8).every((e) => e.length === 8));
  // deepStrictEqual compares with Object.is: NaN equals NaN, -0 differs from 0.
  assert.deepEqual(
    values(f4).map((e) => e.readFloatBE(0)),
    inputs.map(Math.fround),
  );
  assert.deepEqual(
    values(f8).map((e) => e.readDoubleBE(0)),
    inputs,
  );
});

test('bool elements are one byte, 1 for true and 0 for false', () => {
  const builder = new BinaryArrayBuilder(ELEMENT_OID.boolean!);
  builder.appendBool(true);
  builder.appendBool(false);
  builder.appendBool(true);
  const parsed = parseArray(builder.finish());
  assert.equal(parsed.oid, 16);
  assert.deepEqual(parsed.elements, [Buffer.from([1]), Buffer.from([0]), Buffer.from([1])]);
});

test('byte elements are copied verbatim: short and long (>64 bytes), binary and multibyte UTF-8', () => {
  const inputs = [
    Buffer.alloc(0),
    Buffer.from('a'),
    Buffer.from([0, 255, 128, 10, 13]),
    Buffer.from('x'.repeat(63)),
    Buffer.from('y'.repeat(64)),
    Buffer.from('z'.repeat(65)),
    Buffer.from('é日本語😀👍🏽', 'utf8'),
    Buffer.from('😀'.repeat(40), 'utf8'),
    Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) % 256)),
  ];
  const builder = new BinaryArrayBuilder(ELEMENT_OID.bytea!);
  for (const v of inputs) builder.appendBytes(v);
  assert.deepEqual(values(parseArray(builder.finish())), inputs);
});

test('appendBytes copies only source[start, end), below and above the 64-byte copy threshold', () => {
  // The transcoder appends straight from the payload, so the range must be honoured exactly.
  const source = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 251));
  const ranges: Array<[number, number]> = [
    [0, 0],
    [5, 6],
    [10, 73],
    [10, 74],
    [10, 75],
    [100, 300],
    [299, 300],
  ];
  const builder = new BinaryArrayBuilder(ELEMENT_OID.bytea!);
  for (const [start, end] of ranges) builder.appendBytes(source, start, end);
  assert.deepEqual(
    values(parseArray(builder.finish())),
    ranges.map(([start, end]) => source.subarray(start, end)),
  );
});

test('the buffer grows past its initial size without losing earlier elements', () => {
  // The smallest initial size, so growth happens many times, and one element larger than twice
  // the buffer (growth must reach the needed size, not merely double).
  const builder = new BinaryArrayBuilder(ELEMENT_OID.bytea!, 0);
  const expected: (Buffer | null)[] = [];
  for (let i = 0; i < 5000; i++) {
    const value =
      i === 3 ? Buffer.alloc(100_000, 0xab) : Buffer.from(String(i).repeat(1 + (i % 30)), 'utf8');
    if (i % 97 === 0) {
      builder.appendNull();
      expected.push(null);
    } else {
      builder.appendBytes(value);
      expected.push(value);
    }
  }
  assert.equal(builder.length, 5000);
  const parsed = parseArray(builder.finish());
  assert.equal(parsed.length, 5000);
  assert.equal(parsed.hasNull, true);
  assert.deepEqual(parsed.elements, expected);

  const ints = new BinaryArrayBuilder(ELEMENT_OID.bigint!, 1);
  for (let i = 0; i < 10_000; i++) ints.appendInt8(i * 1_000_003 - 5_000_000_000);
  assert.deepEqual(
    values(parseArray(ints.finish())).map((e) => e.readBigInt64BE(0)),
    Array.from({ length: 10_000 }, (_, i) => BigInt(i * 1_000_003 - 5_000_000_000)),
  );
});

test('an empty array has no dimensions: only ndim 0, flags 0 and the element OID', () => {
  const builder = new BinaryArrayBuilder(ELEMENT_OID.timestamptz!);
  assert.equal(builder.length, 0);
  const buf = builder.finish();
  assert.equal(buf.length, 12);
  assert.deepEqual(parseArray(buf), {
    ndim: 0,
    hasNull: false,
    oid: 1184,
    length: 0,
    lowerBound: 0,
    elements: [],
  });
});

test('element OIDs are the built-in type OIDs node-postgres knows', () => {
  // array_recv refuses an array whose element OID is not the cast's element type.
  const { builtins } = pg.types;
  assert.deepEqual(ELEMENT_OID, {
    boolean: builtins.BOOL,
    bytea: builtins.BYTEA,
    bigint: builtins.INT8,
    integer: builtins.INT4,
    text: builtins.TEXT,
    real: builtins.FLOAT4,
    'double precision': builtins.FLOAT8,
    date: builtins.DATE,
    timestamptz: builtins.TIMESTAMPTZ,
  });
});
