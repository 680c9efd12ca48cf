import avro from 'avsc';

/** The lowest Avro `long`, −2^63. */
export const MIN_LONG = -(2n ** 63n);
/** The highest Avro `long`, 2^63 − 1. */
export const MAX_LONG = 2n ** 63n - 1n;
/** The range of a `long`, as error messages name it. */
export const LONG_RANGE = `an integer from ${MIN_LONG} to ${MAX_LONG}`;

/**
 * Longs whose zig-zag form avsc's own number arithmetic writes and reads exactly (it needs more
 * than the 53 bits of a double from about ±2^52 on: −2^52−1 is written as the bytes of +2^52).
 * Within this bound the number path of avsc is taken; beyond it, BigInt.
 */
const NUMBER_PATH_LIMIT = 2 ** 51;
/** The most decimal digits a string may have before its value is even looked at (with zeros). */
const MAX_DIGITS = 40;
const DECIMAL = /^-?\d+$/;
const TWO_64 = 2n ** 64n;

/**
 * The one JavaScript form of a `long`: a number when it is a safe integer (what every long was
 * before), a BigInt beyond ±(2^53 − 1). Takes a safe integer, a BigInt or a string of decimal
 * digits (how JSON clients that cannot write big numbers send them); undefined for anything else,
 * for a number beyond the safe range (its digits may already be lost) and for values outside
 * [−2^63, 2^63 − 1].
 */
export function toExactLong(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string' && value.length <= MAX_DIGITS && DECIMAL.test(value))
    big = BigInt(value);
  else return undefined;
  if (big < MIN_LONG || big > MAX_LONG) return undefined;
  const small = Number(big);
  return Number.isSafeInteger(small) ? small : big;
}

/** avsc's `Tap`, the cursor its encoders and decoders share; internal to avsc, hence declared here. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(value: number): void;
}

/**
 * Avro `long` over its whole range, [−2^63, 2^63 − 1] (avsc's own stops at ±(2^53 − 2)). Values
 * are read as numbers when safe and as BigInts beyond, and written from either form or from a
 * string of digits, so that 64-bit ids (bigint primary keys, Snowflake ids) keep every digit from
 * the HTTP body to the sinks. The type name stays `long`: schemas, fingerprints, resolution and
 * everything that maps a `long` (SQL `bigint`, BSON) see the type they always saw.
 * Avro's zig-zag varint: https://avro.apache.org/docs/1.11.1/specification/#binary-encoding
 */
export class ExactLongType extends avro.types.LongType {
  _check(
    value: unknown,
    _flags?: unknown,
    hook?: (value: unknown, type: avro.Type) => void,
  ): boolean {
    const valid =
      typeof value === 'number' ? Number.isSafeInteger(value) : toExactLong(value) !== undefined;
    if (!valid && hook) hook(value, this);
    return valid;
  }

  _read(tap: Tap): number | bigint {
    const start = tap.pos;
    const value = tap.readLong();
    // Exact below 2^51 either way; beyond, avsc's double arithmetic may have rounded.
    if (value > -NUMBER_PATH_LIMIT && value < NUMBER_PATH_LIMIT) return value;
    tap.pos = start;
    return readBigLong(tap);
  }

  _write(tap: Tap, value: unknown): void {
    if (typeof value === 'number' && value > -NUMBER_PATH_LIMIT && value < NUMBER_PATH_LIMIT) {
      if (!Number.isInteger(value)) throw new Error(`invalid "long": ${value}`);
      tap.writeLong(value);
      return;
    }
    const exact = toExactLong(value);
    if (exact === undefined)
      throw new Error(`invalid "long": ${String(value)} is not ${LONG_RANGE}`);
    writeBigLong(tap, BigInt(exact));
  }

  /** `clone` goes through here: a value copied by its type comes out in its one form. */
  _copy(value: unknown): unknown {
    return toExactLong(value) ?? value;
  }

  _match(tap1: Tap, tap2: Tap): number {
    return this.compare(this._read(tap1), this._read(tap2));
  }

  override compare(a: unknown, b: unknown): number {
    // `<` compares a number with a BigInt exactly.
    const x = a as number | bigint;
    const y = b as number | bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** prepareWrite converts a field through this, as it converts logical types. */
  _toValue(value: unknown): number | bigint | undefined {
    return toExactLong(value);
  }

  _fromValue(value: unknown): unknown {
    return value;
  }
}

/** A zig-zag varint of up to 10 bytes, as a number when safe and a BigInt beyond. */
function readBigLong(tap: Tap): number | bigint {
  const { buf } = tap;
  let unsigned = 0n;
  for (let i = 0; ; i++) {
    const byte = buf[tap.pos++];
    // Past the end: the tap is then invalid, which its caller reports as a truncated buffer.
    if (byte === undefined) return 0;
    if (i === 10) throw new Error('invalid "long": a varint longer than 10 bytes');
    unsigned |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) break;
  }
  if (unsigned >= TWO_64) throw new Error('invalid "long": beyond 64 bits');
  const value = unsigned & 1n ? -((unsigned + 1n) >> 1n) : unsigned >> 1n;
  const small = Number(value);
  return Number.isSafeInteger(small) ? small : value;
}

function writeBigLong(tap: Tap, value: bigint): void {
  const { buf } = tap;
  let unsigned = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  // Writing past the end is a no-op on a Buffer: avsc sees the position beyond it and retries
  // with a larger buffer, as with its own writes.
  while (unsigned >= 0x80n) {
    buf[tap.pos++] = Number(unsigned & 0x7fn) | 0x80;
    unsigned >>= 7n;
  }
  buf[tap.pos++] = Number(unsigned);
}

/** `forSchema`'s typeHook: plain longs (not the base of a logical type) become ExactLongType. */
export function exactLongs(schema: avro.Schema): avro.Type | undefined {
  if (schema === 'long') return new ExactLongType();
  if (
    typeof schema === 'object' &&
    schema !== null &&
    (schema as { type?: unknown }).type === 'long' &&
    !(schema as { logicalType?: unknown }).logicalType
  )
    return new ExactLongType();
  return undefined;
}
