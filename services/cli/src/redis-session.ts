import type { Redis } from 'ioredis';
import { redisFromEnv } from '../../../runtime/config/env.ts';
import { Keys } from '../../../runtime/keys.ts';
import { connectRedis } from '../../../runtime/redis-connection.ts';

/**
 * One connection for one command, from REDIS_URL (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*),
 * closed when the work is done. A request fails after one retry: an operator waits for it.
 */
export async function withRedis<T>(
  prefix: string,
  work: (redis: Redis, keys: Keys) => Promise<T>,
): Promise<T> {
  const keys = new Keys(prefix);
  const redis = connectRedis({
    ...redisFromEnv(process.env),
    options: { maxRetriesPerRequest: 1 },
  });
  try {
    return await work(redis, keys);
  } finally {
    redis.disconnect();
  }
}
