import pg from 'pg';
import type { Keys } from '../../runtime/keys.ts';
import type { RedisClient } from '../../runtime/redis-client.ts';

/** True when the sink's applied watermark of every partition of the entity is its stream's last id. */
export async function sinkCaughtUp(
  redis: RedisClient,
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

/**
 * The partitions whose offset stored by a PostgreSQL sink is not its stream's last id, as
 * `partition: stored != last`: empty once the sink has consumed everything.
 */
export async function postgresOffsetsBehind(
  pool: pg.Pool,
  schema: string,
  redis: RedisClient,
  keys: Keys,
  entity: string,
): Promise<string[]> {
  const { rows } = await pool.query<{ partition: number; stream_id: string }>(
    `SELECT partition, stream_id FROM ${pg.escapeIdentifier(schema)}.cdc_offsets WHERE entity = $1`,
    [entity],
  );
  const behind: string[] = [];
  for (const { partition, stream_id } of rows) {
    const [last] = await redis.xrevrange(keys.stream(entity, partition), '+', '-', 'COUNT', 1);
    if (stream_id !== last?.[0]) behind.push(`${partition}: ${stream_id} != ${last?.[0]}`);
  }
  return behind;
}
