import { isUtf8 } from 'node:buffer';

/**
 * Builds a one-dimensional PostgreSQL array in the binary wire format, to be sent as a binary
 * parameter (node-postgres sends a Buffer parameter in binary format). The server reads it with
 * `array_recv` and each element with its type's receive function, so nothing is escaped on this
 * side and nothing is parsed from text on the server's.
 *
 * Format (src/backend/utils/adt/arrayfuncs.c, array_recv): int32 number of dimensions, int32
 * has-nulls flag, int32 element type OID, then per dimension int32 length and int32 lower bound,
 * then per element int32 byte length (-1 for NULL) and the element's bytes. Integers big-endian.
 */
export class BinaryArrayBuilder {
  private buf: Buffer;
  private pos = HEADER_BYTES;
  private count = 0;
  private hasNulls = false;

  /** `elementOid`: the element type's OID, which must be the one the statement's cast names. */
  constructor(
    readonly elementOid: number,
    initialBytes = 4096,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, HEADER_BYTES + 16));
  }

  /** Elements so far. */
  get length(): number {
    return this.count;
  }

  /** Bytes of the elements so far (lengths included, header not). */
  get byteLength(): number {
    return this.pos - HEADER_BYTES;
  }

  /** Room for one more element of `bytes` bytes (length included); returns where it goes. */
  private reserve(bytes: number): number {
    const at = this.pos;
    if (at + bytes > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, at + bytes));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    this.pos = at + bytes;
    this.count++;
    return at;
  }

  appendNull(): void {
    const at = this.reserve(4);
    this.buf.writeInt32BE(-1, at);
    this.hasNulls = true;
  }

  appendBool(value: boolean): void {
    const at = this.reserve(5);
    this.buf.writeInt32BE(1, at);
    this.buf[at + 4] = value ? 1 : 0;
  }

  appendInt4(value: number): void {
    const at = this.reserve(8);
    this.buf.writeInt32BE(4, at);
    this.buf.writeInt32BE(value, at + 4);
  }

  /** A 64-bit integer given as a safe JavaScript integer. */
  appendInt8(value: number): void {
    const at = this.reserve(12);
    this.buf.writeInt32BE(8, at);
    // Two's complement halves; exact for every safe integer.
    const high = Math.floor(value / 2 ** 32);
    this.buf.writeInt32BE(high, at + 4);
    this.buf.writeUInt32BE(value - high * 2 ** 32, at + 8);
  }

  /** A 64-bit integer of any size. */
  appendBigInt8(value: bigint): void {
    const at = this.reserve(12);
    this.buf.writeInt32BE(8, at);
    this.buf.writeBigInt64BE(value, at + 4);
  }

  appendFloat4(value: number): void {
    const at = this.reserve(8);
    this.buf.writeInt32BE(4, at);
    this.buf.writeFloatBE(value, at + 4);
  }

  appendFloat8(value: number): void {
    const at = this.reserve(12);
    this.buf.writeInt32BE(8, at);
    this.buf.writeDoubleBE(value, at + 4);
  }

  /** An element whose binary form is these bytes (text as UTF-8, bytea as is, …). */
  appendBytes(source: Uint8Array, start = 0, end = source.length): void {
    const length = end - start;
    const at = this.reserve(4 + length);
    const buf = this.buf;
    buf.writeInt32BE(length, at);
    // Most elements are short strings: a loop beats the native copy's call overhead.
    if (length < 256) for (let i = 0; i < length; i++) buf[at + 4 + i] = source[start + i]!;
    else buf.set(source.subarray(start, end), at + 4);
  }

  /**
   * UTF-8 text. PostgreSQL refuses invalid UTF-8, which a decoder would have read with
   * replacement characters (avsc writes a lone surrogate as the bytes of one): such text is
   * decoded and encoded again, so that both write the same string.
   */
  appendText(source: Buffer, start: number, end: number): void {
    const length = end - start;
    const at = this.reserve(4 + length);
    const buf = this.buf;
    buf.writeInt32BE(length, at);
    // Copying and spotting non-ASCII bytes in one pass: almost all text is ASCII.
    let high = 0;
    if (length < 256) {
      for (let i = 0; i < length; i++) {
        const byte = source[start + i]!;
        high |= byte;
        buf[at + 4 + i] = byte;
      }
    } else {
      buf.set(source.subarray(start, end), at + 4);
      high = 0x80;
    }
    if ((high & 0x80) === 0 || isUtf8(buf.subarray(at + 4, at + 4 + length))) return;
    this.pos = at;
    this.count--;
    this.appendBytes(Buffer.from(source.toString('utf8', start, end)));
  }

  /** The array, ready to be a query parameter. The builder must not be used afterwards. */
  finish(): Buffer {
    if (this.count === 0) {
      // An empty array has no dimensions.
      this.buf.writeInt32BE(0, 0);
      this.buf.writeInt32BE(0, 4);
      this.buf.writeInt32BE(this.elementOid, 8);
      return this.buf.subarray(0, 12);
    }
    this.buf.writeInt32BE(1, 0);
    this.buf.writeInt32BE(this.hasNulls ? 1 : 0, 4);
    this.buf.writeInt32BE(this.elementOid, 8);
    this.buf.writeInt32BE(this.count, 12);
    this.buf.writeInt32BE(1, 16);
    return this.buf.subarray(0, this.pos);
  }
}

const HEADER_BYTES = 20;

/**
 * Element type OIDs (src/include/catalog/pg_type.dat; fixed since PostgreSQL 7) by the SQL type
 * name the table mapping derives from an Avro type.
 */
export const ELEMENT_OID: Readonly<Record<string, number>> = {
  boolean: 16,
  bytea: 17,
  bigint: 20,
  integer: 23,
  text: 25,
  real: 700,
  'double precision': 701,
  date: 1082,
  timestamptz: 1184,
};

/** Bytes one non-null element of a fixed-size type takes in the array, its length included. */
export const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  16: 5,
  20: 12,
  23: 8,
  700: 8,
  701: 12,
  1082: 8,
  1184: 12,
};

/** An `int[]` parameter of these values (each a 32-bit integer). */
export function int4Array(values: readonly number[]): Buffer {
  const builder = new BinaryArrayBuilder(ELEMENT_OID.integer!, 64 + values.length * 8);
  for (const value of values) builder.appendInt4(value);
  return builder.finish();
}
