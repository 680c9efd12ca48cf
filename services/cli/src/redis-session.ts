import type { Redis } from 'ioredis';
import { redisFromEnv } from '../../../runtime/config/env.ts';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { RedisUnavailableError } from '../../../runtime/errors/redis-unavailable-error.ts';
import { Keys } from '../../../runtime/keys.ts';
import { connectRedis } from '../../../runtime/redis-connection.ts';
import { isConnectionError } from '../../../runtime/redis-errors.ts';

/**
 * One connection for one command, from REDIS_URL (+ REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_*),
 * closed when the work is done. A request fails after one retry: an operator waits for it. A
 * Redis that does not answer ends the command as a RedisUnavailableError, one line and exit 1,
 * rather than ioredis' stack.
 */
export async function withRedis<T>(
  prefix: string,
  work: (redis: Redis, keys: Keys) => Promise<T>,
  command = 'the command',
): Promise<T> {
  const keys = new Keys(prefix);
  const redis = connectRedis({
    ...redisFromEnv(process.env),
    options: { maxRetriesPerRequest: 1 },
  });
  try {
    return await work(redis, keys);
  } catch (err) {
    throw noAnswer(err) ? new RedisUnavailableError(command, err) : err;
  } finally {
    redis.disconnect();
  }
}

/** How ioredis reports a command that got no answer (it gave up, or the socket failed). */
function noAnswer(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof CdcError) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.message === 'Connection is closed.' ||
    isConnectionError(err)
  );
}
