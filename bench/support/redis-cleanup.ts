import type { Redis } from 'ioredis';

/** Deletes every key matching `pattern` (SCAN + UNLINK, so a busy server is not blocked). */
export async function deleteUnder(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (found.length > 0) await redis.unlink(...found);
    cursor = next;
  } while (cursor !== '0');
}
