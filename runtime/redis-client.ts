import { Cluster, Redis } from 'ioredis';

/**
 * A connection to Redis, one server or a Redis Cluster. Both ioredis classes share the command
 * methods (`Commander`), scripts defined with `defineCommand` included, so code that sends only
 * commands whose keys share one slot takes either. Pipelines and MULTI differ: on a cluster every
 * key of one must live on one node.
 */
export type RedisClient = Redis | Cluster;

/** An open connection (as opposed to options saying how to open one). */
export function isRedisClient(value: unknown): value is RedisClient {
  return value instanceof Redis || value instanceof Cluster;
}
