import keySlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../../runtime/redis-client.ts';

/**
 * The values of several string keys, in the order asked (null for a missing key). On one server
 * one MGET. On a Redis Cluster a multi-key command must keep to one slot (CROSSSLOT otherwise,
 * even for keys of one node): one MGET per slot, sent side by side, so keys sharing a hash tag
 * (a sink's heartbeats, `{sink:<name>}`) still go together and a partition's lease goes alone.
 */
export async function getMany(
  redis: RedisClient,
  keys: readonly string[],
): Promise<Array<string | null>> {
  if (keys.length === 0) return [];
  if (!(redis instanceof Cluster)) return redis.mget(...keys);
  const bySlot = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = keySlot(key);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), i]);
  });
  const values: Array<string | null> = new Array(keys.length).fill(null);
  await Promise.all(
    [...bySlot.values()].map(async (indexes) => {
      const found = await redis.mget(...indexes.map((i) => keys[i]!));
      indexes.forEach((at, j) => {
        values[at] = found[j] ?? null;
      });
    }),
  );
  return values;
}
