import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { CaptureOptions } from '../../runtime/capture/capture-options.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { testEnv } from '../helpers/env.ts';

/** The project's own schema files, as capture options expect them. */
export function schemaFile(entity: string): AvroSchema {
  return JSON.parse(
    readFileSync(new URL(`../../schemas/${entity}.avsc`, import.meta.url), 'utf8'),
  ) as AvroSchema;
}

/** A capture on the test Redis for these of the project's entities, each with `partitions`. */
export function createTestCapture(
  prefix: string,
  entities: readonly string[],
  partitions: number,
  options: Partial<CaptureOptions> = {},
): Promise<Capture> {
  return createCapture({
    redis: { url: testEnv.redisUrl },
    prefix,
    entities: Object.fromEntries(
      entities.map((entity) => [entity, { schema: schemaFile(entity), partitions }]),
    ),
    ...options,
  });
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
