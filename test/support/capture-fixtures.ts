import { readFileSync } from 'node:fs';
import { type Capture, createCapture } from '../../runtime/capture/capture.ts';
import type { CaptureOptions } from '../../runtime/capture/capture-options.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { AvroSchema } from '../../runtime/schema/avro-schema.ts';
import { scanKeys, testRedisOptions } from '../helpers/redis.ts';

/** The project's own schema files, as capture options expect them. */
export function schemaFile(entity: string): AvroSchema {
  return JSON.parse(
    readFileSync(new URL(`../../schemas/${entity}.avsc`, import.meta.url), 'utf8'),
  ) as AvroSchema;
}

/**
 * A capture on the tests' Redis (the cluster in cluster mode) for these of the project's
 * entities, each with `partitions`.
 */
export function createTestCapture(
  prefix: string,
  entities: readonly string[],
  partitions: number,
  options: Partial<CaptureOptions> = {},
): Promise<Capture> {
  return createCapture({
    redis: testRedisOptions(),
    prefix,
    entities: Object.fromEntries(
      entities.map((entity) => [entity, { schema: schemaFile(entity), partitions }]),
    ),
    ...options,
  });
}

/** Every key under a prefix (SCAN, so it works on a busy server; every master of a cluster). */
export function keysUnder(redis: RedisClient, pattern: string): Promise<string[]> {
  return scanKeys(redis, pattern);
}
