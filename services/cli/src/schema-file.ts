import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type avro from 'avsc';
import { ConfigError } from '../../../runtime/errors/config-error.ts';
import { type AvroSchema, parseSchema, recordFields } from '../../../runtime/schema/avro-schema.ts';

/** A schema file an operator gave, read and parsed as capture would use it. */
export interface SchemaFile {
  /** The entity it is for: `--entity`, else the file's name without `.avsc` (as in `schemas/`). */
  entity: string;
  schema: AvroSchema;
  type: avro.Type;
}

/**
 * Reads a schema file: JSON, a valid Avro schema (with the project's logical types) and a record,
 * as capture requires. Anything else is a ConfigError whose message names the file and says
 * what is wrong, in one line.
 */
export async function readSchemaFile(path: string, entity?: string): Promise<SchemaFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, err);
  }
  let schema: AvroSchema;
  try {
    schema = JSON.parse(text) as AvroSchema;
  } catch (err) {
    throw new ConfigError(`${path} is not JSON: ${(err as Error).message}`, err);
  }
  const name = entity ?? basename(path).replace(/\.avsc$/, '');
  const type = parseSchema(schema, path);
  recordFields(type, name);
  return { entity: name, schema, type };
}
