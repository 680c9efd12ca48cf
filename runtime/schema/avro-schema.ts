import avro from 'avsc';
import { ConfigError } from '../errors/config-error.ts';
import { exactLongs } from './exact-long-type.ts';
import { logicalTypes } from './logical-types.ts';
import { admitLongsInUnions } from './long-unions.ts';

/** An Avro schema as JSON (the content of an `.avsc` file). */
export type AvroSchema = avro.Schema;

/** Parses a schema with the project's logical types. Throws a ConfigError naming the problem. */
export function parseSchema(schema: AvroSchema | string, origin = 'schema'): avro.Type {
  try {
    const json = typeof schema === 'string' ? (JSON.parse(schema) as AvroSchema) : schema;
    return admitLongsInUnions(
      avro.Type.forSchema(json, { logicalTypes, wrapUnions: 'auto', typeHook: exactLongs }),
    );
  } catch (err) {
    throw new ConfigError(`${origin} is not a valid Avro schema: ${(err as Error).message}`, err);
  }
}

/** SHA-256 of the schema's Parsing Canonical Form, hex: identical schemas share it. */
export function fingerprintOf(type: avro.Type): string {
  return type.fingerprint('sha256').toString('hex');
}

/** The record type's fields, or a ConfigError when the schema is not a record. */
export function recordFields(type: avro.Type, entity: string): avro.types.Field[] {
  if (!(type instanceof avro.types.RecordType)) {
    throw new ConfigError(`schema of ${entity} must be an Avro record, it is a ${type.typeName}`);
  }
  return type.fields;
}
