import type { RedisClient } from '../redis-client.ts';
import { countEntries } from '../stream-count.ts';

/**
 * Moves a consumer group's last-delivered id back to `id` (XGROUP SETID) and keeps the group's
 * lag known. Moved without ENTRIESREAD, a group's lag is unknown to Redis (XINFO reports null)
 * until the group has read to the end of the stream again, so a replay would show no lag for as
 * long as it runs. ENTRIESREAD is the number of entries up to `id`: everything the stream ever
 * added, minus the entries above `id`, counted page by page up to the last id as of the count
 * (entries appended meanwhile are counted by Redis itself). Counting reads the entries a replay
 * reads next anyway, once. Returns the entries above `id`.
 */
export async function moveGroupBack(
  redis: RedisClient,
  stream: string,
  group: string,
  id: string,
): Promise<number> {
  const info = (await redis.xinfo('STREAM', stream)) as Array<string | number>;
  const added = Number(info[info.indexOf('entries-added') + 1]);
  const last = String(info[info.indexOf('last-generated-id') + 1]);
  const above = await countEntries(redis, stream, `(${id}`, last);
  const read = Math.max(0, added - above);
  await redis.xgroup('SETID', stream, group, id, 'ENTRIESREAD', read);
  return above;
}
