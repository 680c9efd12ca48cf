import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import { parseSchema } from '../../runtime/schema/avro-schema.ts';
import {
  ExactLongType,
  LONG_RANGE,
  MAX_LONG,
  MIN_LONG,
  toExactLong,
} from '../../runtime/schema/exact-long-type.ts';

const long = parseSchema('"long"');

/** The Avro encoding of a long, by the spec's zig-zag varint, written independently of avsc. */
function specBytes(value: bigint): Buffer {
  let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n;
  const bytes: number[] = [];
  do {
    const low = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    bytes.push(zigzag > 0n ? low | 0x80 : low);
  } while (zigzag > 0n);
  return Buffer.from(bytes);
}

const EDGES: bigint[] = [
  0n,
  -1n,
  1n,
  63n,
  -64n,
  64n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 51n - 1n,
  2n ** 51n,
  -(2n ** 51n),
  -(2n ** 52n) - 1n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  2n ** 62n,
  MAX_LONG,
  MIN_LONG,
];

test('every long is written as the Avro spec encodes it and read back exactly', () => {
  assert.ok(long instanceof ExactLongType);
  for (const value of EDGES) {
    const safe = Number.isSafeInteger(Number(value));
    const expected = safe ? Number(value) : value;
    const written = long.toBuffer(expected);
    assert.deepEqual(written, specBytes(value), `bytes of ${value}`);
    assert.equal(long.fromBuffer(written), expected, `read of ${value}`);
    // A BigInt within the safe range and a string of digits are written alike.
    assert.deepEqual(long.toBuffer(value), written);
    assert.deepEqual(long.toBuffer(String(value)), written);
  }
});

test('values avsc’s own long writes are read exactly, and the reverse', () => {
  const plain = avro.Type.forSchema('long');
  for (const value of [0, -1, 2 ** 52, -(2 ** 52), 2 ** 53 - 2]) {
    assert.equal(long.fromBuffer(plain.toBuffer(value)), value);
    assert.equal(plain.fromBuffer(long.toBuffer(value)), value);
  }
});

test('random longs over the whole range round-trip', () => {
  let seed = 0x2545f4914f6cdd1dn;
  for (let i = 0; i < 2000; i++) {
    // xorshift64: every bit pattern, so every magnitude, appears.
    seed ^= (seed << 13n) & 0xffffffffffffffffn;
    seed ^= seed >> 7n;
    seed ^= (seed << 17n) & 0xffffffffffffffffn;
    const value = BigInt.asIntN(64, seed) >> BigInt(i % 64);
    const form = toExactLong(value)!;
    assert.equal(long.fromBuffer(long.toBuffer(form)), form);
    assert.deepEqual(long.toBuffer(form), specBytes(value));
  }
});

test('toExactLong: one form per value, nothing outside the 64-bit range', () => {
  assert.equal(toExactLong(5), 5);
  assert.equal(toExactLong(5n), 5);
  assert.equal(toExactLong('-5'), -5);
  assert.equal(toExactLong('007'), 7);
  assert.equal(toExactLong('9223372036854775807'), MAX_LONG);
  assert.equal(toExactLong(MIN_LONG), MIN_LONG);
  for (const bad of [
    MAX_LONG + 1n,
    MIN_LONG - 1n,
    '9223372036854775808',
    2 ** 53,
    1.5,
    Number.NaN,
    '',
    '1e3',
    ' 1',
    '0x10',
    null,
    '1'.repeat(1000),
  ]) {
    assert.equal(toExactLong(bad), undefined, `refuses ${String(bad).slice(0, 30)}`);
  }
});

test('writing a long out of range throws and names the range', () => {
  assert.throws(() => long.toBuffer(MAX_LONG + 1n), new RegExp(LONG_RANGE));
  assert.throws(() => long.toBuffer(2 ** 60), /invalid "long"/);
  assert.throws(() => long.toBuffer(0.5), /invalid "long"/);
});

test('a varint beyond 64 bits, or cut short, is refused when read', () => {
  assert.throws(() => long.fromBuffer(Buffer.from([...Array(9).fill(0xff), 0x7f])), /64 bits/);
  assert.throws(
    () => long.fromBuffer(Buffer.from([...Array(10).fill(0xff), 0x01])),
    /longer than 10 bytes/,
  );
  assert.throws(() => long.fromBuffer(specBytes(MAX_LONG).subarray(0, 5)), /truncated/);
});

test('unions with null take a big long; a union with a string keeps strings as strings', () => {
  const maybe = parseSchema('["null", "long"]');
  for (const value of [null, 1, MAX_LONG, MIN_LONG]) {
    assert.ok(maybe.isValid(value));
    assert.equal(maybe.fromBuffer(maybe.toBuffer(value)), value);
  }
  assert.ok(maybe.isValid('9223372036854775807'));
  assert.ok(!maybe.isValid(MAX_LONG + 1n));
  const either = parseSchema('["string", "long"]');
  assert.equal(either.fromBuffer(either.toBuffer('12')), '12');
  assert.equal(either.fromBuffer(either.toBuffer(MAX_LONG)), MAX_LONG);
  // An ambiguous union stays wrapped, as avsc makes it: the branch is named.
  const wrapped = parseSchema('["int", "long"]');
  assert.deepEqual(
    { ...(wrapped.fromBuffer(wrapped.toBuffer({ long: MAX_LONG })) as object) },
    { long: MAX_LONG },
  );
});

test('a long with a logical type is left to that type; int and long resolve to a long', () => {
  const timestamp = parseSchema({ type: 'long', logicalType: 'timestamp-millis' });
  assert.ok(!(timestamp instanceof ExactLongType));
  const int = parseSchema('"int"');
  assert.equal(long.fromBuffer(int.toBuffer(-5), long.createResolver(int)), -5);
  const double = parseSchema('"double"');
  assert.equal(double.fromBuffer(long.toBuffer(2 ** 40), double.createResolver(long)), 2 ** 40);
});

test('the schema and its fingerprint are those of a plain long', () => {
  assert.equal(JSON.stringify(long.schema()), '"long"');
  assert.deepEqual(long.fingerprint('sha256'), avro.Type.forSchema('long').fingerprint('sha256'));
});
