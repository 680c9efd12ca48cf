import assert from 'node:assert/strict';
import { decodeEnvelope } from '../../runtime/envelope.ts';
import type { Keys } from '../../runtime/keys.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';
import type { SchemaRegistry } from '../../runtime/schema/schema-registry.ts';
import { keysUnder } from './capture-fixtures.ts';

export interface LoggedEvent {
  id: string;
  partition: number;
  op: 'upsert' | 'delete';
  key: string;
  record: Record<string, unknown> | undefined;
}

/** Reads and decodes every event of an entity, partition by partition. */
export async function readLog(
  redis: RedisClient,
  keys: Keys,
  registry: SchemaRegistry,
  entity: string,
  partitions: number,
): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  for (let p = 0; p < partitions; p++) {
    const entries = await redis.xrangeBuffer(keys.stream(entity, p), '-', '+');
    for (const [rawId, fields] of entries) {
      const event = decodeEnvelope(rawId.toString(), fields);
      let record: Record<string, unknown> | undefined;
      if (event.op === 'upsert') {
        const schema = await registry.get(event.schemaId!);
        try {
          record = { ...(schema.type.fromBuffer(event.payload!) as object) };
        } catch {
          // A corrupt entry a test planted on purpose: no sink can apply it either.
          continue;
        }
      }
      events.push({ id: event.id, partition: p, op: event.op, key: event.key, record });
    }
  }
  return events;
}

/**
 * Asserts that the cache is exactly what the log implies: for every key, the cache holds the
 * record of its last event (with that event's id as version), or nothing when the last event is
 * a delete; and no cache entry exists without an event.
 */
export async function assertCacheMatchesLog(
  redis: RedisClient,
  keys: Keys,
  registry: SchemaRegistry,
  entity: string,
  partitions: number,
): Promise<Map<string, LoggedEvent>> {
  const events = await readLog(redis, keys, registry, entity, partitions);
  const last = new Map<string, LoggedEvent>();
  for (const event of events) last.set(event.key, event);
  const cacheKeys = new Set(await keysUnder(redis, `${keys.prefix}:{${entity}:*}:cache:*`));
  for (const [key, event] of last) {
    const cacheKey = keys.cache(entity, event.partition, key);
    const [d, v] = await redis.hmget(cacheKey, 'd', 'v');
    if (event.op === 'delete') {
      assert.equal(d, null, `${key} was deleted by ${event.id} but is still cached`);
    } else {
      assert.equal(v, event.id, `${key}: cache version ${v} is not the last event ${event.id}`);
      assert.deepEqual(JSON.parse(d!), event.record, `${key}: cache differs from its last event`);
    }
    cacheKeys.delete(cacheKey);
  }
  assert.deepEqual([...cacheKeys], [], 'cache entries without an event');
  return last;
}
