import { EnvelopeError } from '../errors/envelope-error.ts';

/** The first byte of a value in the Confluent wire format. */
export const CONFLUENT_MAGIC = 0;

/**
 * A value in the Confluent Schema Registry wire format
 * (https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format):
 * magic byte 0, the writer schema's registry id as a 4-byte big-endian integer, then the Avro
 * binary exactly as captured. Standard consumers (and their registry clients) read it as is.
 */
export function encodeConfluentValue(schemaId: number, avro: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff)
    throw new RangeError(`schema id ${schemaId} does not fit the wire format's 4 bytes`);
  const out = Buffer.allocUnsafe(5 + avro.length);
  out[0] = CONFLUENT_MAGIC;
  out.writeUInt32BE(schemaId, 1);
  avro.copy(out, 5);
  return out;
}

/** The schema id and Avro binary of a Confluent wire-format value (the binary is a view). */
export function decodeConfluentValue(value: Buffer): { schemaId: number; avro: Buffer } {
  if (value.length < 5 || value[0] !== CONFLUENT_MAGIC)
    throw new EnvelopeError(
      `not a Confluent wire-format value: ${value.length < 5 ? `${value.length} bytes` : `magic byte ${value[0]}`}`,
    );
  return { schemaId: value.readUInt32BE(1), avro: value.subarray(5) };
}
