import { Cluster } from 'ioredis';
import type { RedisClient } from '../../runtime/redis-client.ts';

/**
 * Deletes every key matching `pattern` (SCAN + UNLINK, so a busy server is not blocked). A
 * cluster answers SCAN only for the slots of the node asked, so every master is scanned there;
 * and it refuses a multi-key UNLINK across slots, even on one node, so the keys are unlinked one
 * by one, pipelined on the node's own connection.
 */
export async function deleteUnder(redis: RedisClient, pattern: string): Promise<void> {
  const cluster = redis instanceof Cluster;
  for (const node of cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (found.length > 0) {
        if (cluster) {
          const pipeline = node.pipeline();
          for (const key of found) pipeline.unlink(key);
          await pipeline.exec();
        } else {
          await node.unlink(...found);
        }
      }
      cursor = next;
    } while (cursor !== '0');
  }
}
