import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError } from '../errors/config-error.ts';
import type { AvroSchema } from './avro-schema.ts';

/** Reads every `<entity>.avsc` file of a folder: entity name (the file name) -> schema JSON. */
export async function loadSchemaFiles(dir: string): Promise<Map<string, AvroSchema>> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.avsc')).sort();
  } catch (err) {
    throw new ConfigError(`cannot read the schemas folder "${dir}"`, err);
  }
  const schemas = new Map<string, AvroSchema>();
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    try {
      schemas.set(basename(file, '.avsc'), JSON.parse(text) as AvroSchema);
    } catch (err) {
      throw new ConfigError(`schema file ${file} is not valid JSON`, err);
    }
  }
  return schemas;
}
