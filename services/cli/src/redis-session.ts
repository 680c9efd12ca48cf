import { redisFromEnv } from '../../../runtime/config/env.ts';
import { CdcError } from '../../../runtime/errors/cdc-error.ts';
import { RedisUnavailableError } from '../../../runtime/errors/redis-unavailable-error.ts';
import { Keys } from '../../../runtime/keys.ts';
import type { RedisClient } from '../../../runtime/redis-client.ts';
import {
  connectRedisClient,
  type RedisConnectionOptions,
} from '../../../runtime/redis-connection.ts';
import { isConnectionError } from '../../../runtime/redis-errors.ts';
import { redisProbe } from '../../../runtime/service/redis-probe.ts';
import { ServiceStartError } from '../../../runtime/service/service-start-error.ts';
import { reasonOf } from '../../../runtime/service/wait-for-server.ts';

/**
 * One connection for one command, from REDIS_URL or REDIS_CLUSTER_NODES (+ REDIS_USERNAME,
 * REDIS_PASSWORD, REDIS_TLS_*), closed when the work is done, after a probe that names what stops
 * it (checkRedis). On a cluster the commands see one client routing each command by its key's
 * slot; what they send keeps to one slot per command (see the commands). A request fails after
 * one retry: an operator waits for it. A Redis that stops answering ends the command as a
 * RedisUnavailableError, one line and exit 1, rather than ioredis' stack.
 */
export async function withRedis<T>(
  prefix: string,
  work: (redis: RedisClient, keys: Keys) => Promise<T>,
  command = 'the command',
): Promise<T> {
  const keys = new Keys(prefix);
  const connection = redisFromEnv(process.env);
  await checkRedis(connection);
  const redis = connectRedisClient({
    ...connection,
    options: { maxRetriesPerRequest: 1 },
    // An operator waits: a cluster that lost its nodes fails the command within seconds.
    ...(connection.clusterNodes === undefined
      ? {}
      : {
          clusterOptions: { clusterRetryStrategy: (attempt: number) => (attempt > 2 ? null : 200) },
        }),
  });
  try {
    return await work(redis, keys);
  } catch (err) {
    throw noAnswer(err) ? new RedisUnavailableError(command, err) : err;
  } finally {
    redis.disconnect();
  }
}

/**
 * One probe before the command, so that what stops it is said with where and what to do: Redis
 * unreachable, an ACL user or password refused, a TLS handshake that failed (a ServiceStartError:
 * one line, exit 1), instead of a reply error's stack or a bare "unreachable".
 */
async function checkRedis(connection: RedisConnectionOptions): Promise<void> {
  const probe = redisProbe(connection);
  try {
    await probe.check();
  } catch (error) {
    if (error instanceof CdcError && !error.retriable) throw error;
    throw new ServiceStartError(
      'unreachable',
      `${probe.server} at ${probe.where} is unreachable (${reasonOf(error)}): ${probe.hint}`,
      error,
    );
  }
}

/**
 * How ioredis reports a command that got no answer (it gave up, or the socket failed); on a
 * cluster also that no node answered the slot map's refresh, or that the cluster client closed.
 */
function noAnswer(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof CdcError) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.name === 'ClusterAllFailedError' ||
    err.message === 'Connection is closed.' ||
    err.message === 'Cluster is disconnected.' ||
    err.message === 'None of startup nodes is available' ||
    isConnectionError(err)
  );
}
