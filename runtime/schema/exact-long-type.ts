import avro from 'avsc';

/**
 * The lowest long avsc (5.7) writes and reads exactly. Below it, its zig-zag arithmetic needs
 * more than the 53 bits of a double: −2^52−1 is written as the bytes of +2^52. Higher values, up
 * to its limit of ±(2^53−2), are exact.
 */
export const MIN_EXACT_LONG = -(2 ** 52);

interface Checked {
  _check(value: unknown, flags: unknown, hook?: (value: unknown, type: avro.Type) => void): boolean;
  _write(tap: unknown, value: unknown): void;
}

const base = avro.types.LongType.prototype as unknown as Checked;

/**
 * Avro `long` that refuses the values avsc would silently corrupt: validation reports them like
 * any invalid value (so capture answers 400 naming the field), and writing one throws.
 */
export class ExactLongType extends avro.types.LongType {
  _check(
    value: unknown,
    flags: unknown,
    hook?: (value: unknown, type: avro.Type) => void,
  ): boolean {
    const valid = base._check.call(this, value, flags) && (value as number) >= MIN_EXACT_LONG;
    if (!valid && hook) hook(value, this);
    return valid;
  }

  _write(tap: unknown, value: unknown): void {
    if (typeof value === 'number' && value < MIN_EXACT_LONG)
      throw new Error(
        `invalid "long": ${value} is below ${MIN_EXACT_LONG}, which Avro here cannot encode exactly`,
      );
    base._write.call(this, tap, value);
  }
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
