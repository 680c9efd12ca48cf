import { Cluster } from 'ioredis';
import type { RedisClient } from '../../../runtime/redis-client.ts';

/**
 * Every key name matching a glob pattern, found with SCAN (a busy server is not blocked as by
 * KEYS). A Redis Cluster sends a keyless command like SCAN to one node of its choice, which knows
 * only the keys of its own slots: there every master is scanned, one after the other. A key may be
 * seen twice while a slot moves between masters: the names come back without duplicates.
 */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, names] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const name of names) found.add(name);
    } while (cursor !== '0');
  }
  return [...found];
}
