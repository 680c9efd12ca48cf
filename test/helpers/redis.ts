import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from '../../runtime/redis-client.ts';
import { connectRedisClient, type RedisConnectionOptions } from '../../runtime/redis-connection.ts';
import { testEnv } from './env.ts';
import { uniqueNamespace } from './namespace.ts';
import { unreachableError } from './unreachable.ts';

export interface TestRedis<R extends RedisClient = RedisClient> {
  readonly redis: R;
  /** Prefix every key of the test starts with, e.g. `t_smoke_1a2b3c4d:`. */
  readonly prefix: string;
  /** The same as a capture or sink `prefix` option, which adds the `:` itself. */
  readonly capturePrefix: string;
  /** Deletes every key under `prefix` and closes the connection. */
  cleanup(): Promise<void>;
}

/**
 * Fails within a few seconds when Redis is down: ioredis would otherwise queue commands and
 * reconnect forever, and the test would hang instead of failing.
 */
const FAIL_FAST: RedisOptions = {
  connectTimeout: 2_000,
  maxRetriesPerRequest: 2,
  // A few quick reconnects ride out a blip; past that, pending commands fail.
  retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
};

/** Where the tests' Redis is, for messages: the cluster's nodes or the server's URL. */
export function testRedisWhere(): string {
  return testEnv.redisClusterNodes ?? testEnv.redisUrl;
}

/**
 * A connection to the tests' Redis: the Redis Cluster of `REDIS_CLUSTER_NODES` when set, else
 * the server of `REDIS_URL`, opened by the runtime's own factory. `options` apply to every
 * node's connection.
 */
export function connectTestRedis(
  options: RedisOptions = {},
  clusterOptions: RedisConnectionOptions['clusterOptions'] = {},
): RedisClient {
  const connection = testRedisOptions();
  return connectRedisClient({
    ...connection,
    ...(connection.clusterOptions
      ? { clusterOptions: { ...connection.clusterOptions, lazyConnect: true, ...clusterOptions } }
      : {}),
    options: { lazyConnect: true, ...options },
  });
}

/**
 * A connection a test cuts (`disconnect()`) to see what its users do without Redis: connected
 * already, and failing every command from the cut on. A cluster client would otherwise queue
 * commands sent while its status is `close` until it reconnects, which it never does.
 */
export async function connectCuttableTestRedis(): Promise<RedisClient> {
  const redis = connectTestRedis(
    { maxRetriesPerRequest: 0, retryStrategy: () => null },
    { enableOfflineQueue: false, clusterRetryStrategy: () => null },
  );
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/**
 * How a capture or registry under test reaches the tests' Redis: the cluster of
 * `REDIS_CLUSTER_NODES` when set, else the server of `REDIS_URL`.
 */
export function testRedisOptions(): RedisConnectionOptions {
  if (testEnv.redisClusterNodes === undefined) return { url: testEnv.redisUrl };
  return {
    clusterNodes: testEnv.redisClusterNodes,
    // Cluster-level retries, bounded: a test must fail when the cluster is down, not hang.
    clusterOptions: {
      clusterRetryStrategy: (attempt: number) => (attempt > 3 ? null : attempt * 200),
    },
  };
}

/**
 * Connects to the tests' Redis (a cluster in cluster mode, see connectTestRedis) with its own key
 * prefix, for tests of what runs on a cluster: capture and the schema registry.
 */
export async function createTestRedisClient(label = 'redis'): Promise<TestRedis<RedisClient>> {
  return open(label, connectTestRedis(FAIL_FAST), testRedisWhere());
}

/**
 * Connects to the single test server of `REDIS_URL` with its own key prefix, for tests of what
 * needs one server whatever the mode (a server's own commands, a restart). In cluster mode such
 * tests skip; one that gets here anyway fails saying why, rather than testing the single server
 * in cluster mode.
 */
export async function createTestRedisServer(label = 'redis'): Promise<TestRedis<Redis>> {
  if (testEnv.redisClusterNodes !== undefined) {
    throw new Error(
      'this test needs a single Redis server and REDIS_CLUSTER_NODES is set; give its describe ' +
        'or test a skip with notOnClusterYet (test/helpers/env.ts)',
    );
  }
  return open(
    label,
    new Redis(testEnv.redisUrl, { lazyConnect: true, ...FAIL_FAST }),
    testEnv.redisUrl,
  );
}

/**
 * Connects to the tests' Redis with its own key prefix: the cluster of `REDIS_CLUSTER_NODES`
 * when set (`scripts/test.sh cluster`), else the server of `REDIS_URL`.
 */
export const createTestRedis = createTestRedisClient;

async function open<R extends RedisClient>(
  label: string,
  redis: R,
  where: string,
): Promise<TestRedis<R>> {
  const prefix = `${uniqueNamespace(label)}:`;
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    // The 'error' event carries the socket error; the rejection only says the connection closed.
    throw unreachableError(
      redis instanceof Cluster ? 'redis-cluster' : 'redis',
      where,
      lastError ?? error,
    );
  }
  return {
    redis,
    prefix,
    capturePrefix: prefix.replace(/:$/, ''),
    async cleanup() {
      try {
        await deleteKeys(redis, await scanKeys(redis, `${prefix}*`));
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
  };
}

/**
 * Every key matching a pattern (SCAN, so it works on a busy server); on a cluster, of every
 * master, since each holds its own slots. Sorted.
 */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found.sort();
}

/**
 * Deletes keys. On a cluster one UNLINK each (sent together): keys of different slots cannot share
 * a command, even on one node.
 */
export async function deleteKeys(redis: RedisClient, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  if (redis instanceof Cluster) await Promise.all(keys.map((key) => redis.unlink(key)));
  else await redis.unlink(...keys);
}
