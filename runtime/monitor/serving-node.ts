import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis-client.ts';
import { clusterMasterOf } from '../redis-cluster-route.ts';

/**
 * The Redis node serving a key, as `host:port`: on a Redis Cluster the master of the key's slot
 * in the client's slot map (the node a partition's reads and writes go to, so the one whose load,
 * failure or failover shows in that partition's lag); on one server that server, so that the
 * column and the JSON field mean the same in both modes. Undefined while the slot map names no
 * master for the slot (not loaded yet, or a failover under way).
 *
 * The slot map is the client's own: after a failover it is refreshed by the first command that
 * meets the new map (MOVED), so a view read right after one may still name the old master.
 */
export function servingNode(redis: RedisClient, key: string): string | undefined {
  if (redis instanceof Cluster) return clusterMasterOf(redis, key)?.address;
  const { host, port, path } = redis.options;
  // A Unix socket has no port: its path is where the server is.
  if (path) return path;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}
