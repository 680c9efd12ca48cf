import { EntityMetadataStore } from '../../../runtime/capture/entity-metadata.ts';
import type { Keys } from '../../../runtime/keys.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';

/**
 * Every partition of every entity, or of one: undefined (with the error printed and exit code 1)
 * when that entity is unknown.
 */
export async function partitionsOf(
  redis: RedisClient,
  keys: Keys,
  only?: string,
): Promise<Array<{ entity: string; partition: number }> | undefined> {
  const metadata = await new EntityMetadataStore(redis, keys).all();
  if (only !== undefined && !metadata.has(only)) {
    console.error(`unknown entity "${only}"`);
    process.exitCode = 1;
    return undefined;
  }
  return [...metadata]
    .filter(([entity]) => only === undefined || entity === only)
    .flatMap(([entity, meta]) =>
      Array.from({ length: meta.partitions }, (_, partition) => ({ entity, partition })),
    );
}
