import type { RedisClient } from './redis-client.ts';

/** Entries fetched per XRANGE page while counting. */
const PAGE = 1000;

/**
 * The number of entries of a stream between `start` and `end`, in XRANGE's terms (`-`, `+`, ids,
 * `(id` for exclusive). Redis has no count by range, so this pages through the entries: use it
 * where what is counted is about to be read or removed anyway.
 */
export async function countEntries(
  redis: RedisClient,
  stream: string,
  start: string,
  end: string,
): Promise<number> {
  let count = 0;
  let from = start;
  for (;;) {
    const page = await redis.xrange(stream, from, end, 'COUNT', PAGE);
    count += page.length;
    if (page.length < PAGE) return count;
    from = `(${page.at(-1)![0]}`;
  }
}
