import { Redis } from 'ioredis';
import { testEnv } from './env.ts';
import { uniqueNamespace } from './namespace.ts';
import { unreachableError } from './unreachable.ts';

export interface TestRedis {
  readonly redis: Redis;
  /** Prefix every key of the test starts with, e.g. `t_smoke_1a2b3c4d:`. */
  readonly prefix: string;
  /** The same as a capture or sink `prefix` option, which adds the `:` itself. */
  readonly capturePrefix: string;
  /** Deletes every key under `prefix` and closes the connection. */
  cleanup(): Promise<void>;
}

/**
 * Connects to the test Redis with its own key prefix.
 *
 * Fails within a few seconds when Redis is down: ioredis would otherwise queue commands and
 * reconnect forever, and the test would hang instead of failing.
 */
export async function createTestRedis(label = 'redis'): Promise<TestRedis> {
  const prefix = `${uniqueNamespace(label)}:`;
  const redis = new Redis(testEnv.redisUrl, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 2,
    // A few quick reconnects ride out a blip; past that, pending commands fail.
    retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    // The 'error' event carries the socket error; the rejection only says the connection closed.
    throw unreachableError('redis', testEnv.redisUrl, lastError ?? error);
  }

  return {
    redis,
    prefix,
    capturePrefix: prefix.replace(/:$/, ''),
    async cleanup() {
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          if (keys.length > 0) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
  };
}
