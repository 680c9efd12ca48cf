import type { Redis } from 'ioredis';
import type { Keys } from '../../runtime/keys.ts';

/** True when the sink's applied watermark of every partition of the entity is its stream's last id. */
export async function sinkCaughtUp(
  redis: Redis,
  keys: Keys,
  entity: string,
  partitions: number,
  sink: string,
): Promise<boolean> {
  for (let p = 0; p < partitions; p++) {
    const last = (await redis.xrevrange(keys.stream(entity, p), '+', '-', 'COUNT', 1))[0]?.[0];
    if (last && (await redis.get(keys.watermark(entity, p, sink))) !== last) return false;
  }
  return true;
}
