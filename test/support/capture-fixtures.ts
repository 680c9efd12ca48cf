import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';

/** The project's own schema files, as capture options expect them. */
export function schemaFile(entity: string): AvroSchema {
  return JSON.parse(
    readFileSync(new URL(`../../schemas/${entity}.avsc`, import.meta.url), 'utf8'),
  ) as AvroSchema;
}

/** Every key under a prefix (SCAN, so it works on a busy server). */
export async function keysUnder(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}
