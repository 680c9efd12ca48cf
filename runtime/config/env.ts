import { ConfigError } from '../errors/config-error.ts';
import { parseClusterNodes } from '../redis-cluster-nodes.ts';
import type { RedisConnectionOptions } from '../redis-connection.ts';

/** Environment variables as passed to a service's main; nothing deeper reads process.env. */
export type Env = Readonly<Record<string, string | undefined>>;

export function envString(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function envOptional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function envInteger(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

export function envBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/**
 * Redis connection from the environment: `REDIS_URL` (use `rediss://` for TLS), or
 * `REDIS_CLUSTER_NODES` (`host:port,…`, `rediss://host:port,…` for TLS) for a Redis Cluster,
 * which then takes precedence; `REDIS_USERNAME` and `REDIS_PASSWORD` for an ACL user,
 * `REDIS_TLS_CA`, `REDIS_TLS_CERT`, `REDIS_TLS_KEY` (file paths) for TLS with a private CA or
 * client certificates, for either.
 */
export function redisFromEnv(env: Env): RedisConnectionOptions {
  const clusterNodes = envOptional(env, 'REDIS_CLUSTER_NODES');
  // Read here, at the boundary, so a bad list stops the service before it connects anywhere.
  if (clusterNodes !== undefined) parseClusterNodes(clusterNodes);
  const options: RedisConnectionOptions =
    clusterNodes !== undefined
      ? { clusterNodes }
      : { url: envString(env, 'REDIS_URL', 'redis://127.0.0.1:6379') };
  const username = envOptional(env, 'REDIS_USERNAME');
  const password = envOptional(env, 'REDIS_PASSWORD');
  if (username) options.username = username;
  if (password) options.password = password;
  const caFile = envOptional(env, 'REDIS_TLS_CA');
  const certFile = envOptional(env, 'REDIS_TLS_CERT');
  const keyFile = envOptional(env, 'REDIS_TLS_KEY');
  if (caFile || certFile || keyFile) {
    options.tls = {
      ...(caFile ? { caFile } : {}),
      ...(certFile ? { certFile } : {}),
      ...(keyFile ? { keyFile } : {}),
    };
  }
  return options;
}
