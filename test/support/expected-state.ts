import type { Keys } from '../../runtime/keys.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { SchemaRegistry } from '../../runtime/schema/schema-registry.ts';
import { readLog } from './log-checker.ts';

/** What a sink must hold once it applied the whole log: key -> last upserted record (deleted keys absent). */
export async function expectedState(
  redis: RedisClient,
  keys: Keys,
  registry: SchemaRegistry,
  entity: string,
  partitions: number,
): Promise<Map<string, Record<string, unknown>>> {
  const state = new Map<string, Record<string, unknown>>();
  for (const event of await readLog(redis, keys, registry, entity, partitions)) {
    if (event.op === 'delete') state.delete(event.key);
    else state.set(event.key, event.record!);
  }
  return state;
}
