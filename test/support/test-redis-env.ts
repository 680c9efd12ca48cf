import { testEnv } from '../helpers/env.ts';

/**
 * The variables that point a child process (a service, the `cdc` command) at the tests' Redis,
 * whatever the mode: `REDIS_URL`, and `REDIS_CLUSTER_NODES` set in cluster mode, empty (unset,
 * for the runtime) otherwise, so that a variable the test runner's own environment carries
 * never points the process elsewhere.
 */
export function testRedisEnv(): Record<string, string> {
  return { REDIS_URL: testEnv.redisUrl, REDIS_CLUSTER_NODES: testEnv.redisClusterNodes ?? '' };
}
