import { readFileSync } from 'node:fs';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from './errors/config-error.ts';
import type { RedisClient } from './redis-client.ts';
import {
  checkClusterNodes,
  parseClusterNodes,
  type RedisClusterNode,
  type RedisClusterSeeds,
} from './redis-cluster-nodes.ts';

/** How to reach Redis. ACL users and TLS are plain configuration. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * A Redis Cluster's seed nodes instead of `url` (which is then not used): `host:port,…` (or
   * `rediss://host:port,…` for TLS, like the URL), or the nodes themselves, for
   * `connectRedisClient`.
   */
  clusterNodes?: string | readonly RedisClusterNode[];
  /** ACL user name; overrides the URL's. */
  username?: string;
  /** Password of the ACL user (or of `default`); overrides the URL's. */
  password?: string;
  /** TLS files; setting any of them turns TLS on even for a `redis://` URL. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean };
  /** Extra ioredis options, merged last (on a cluster: of every node's connection). */
  options?: RedisOptions;
  /** Extra ioredis Cluster options, merged last; only used with `clusterNodes`. */
  clusterOptions?: Omit<ClusterOptions, 'redisOptions'>;
}

/**
 * Opens an ioredis connection to one server (lazily connected by ioredis itself), for what talks
 * to one server whatever the deployment (the start-up probe of each node): cluster nodes
 * configured are refused. Components open theirs with `connectRedisClient`.
 */
export function connectRedis(connection: RedisConnectionOptions = {}): Redis {
  if (connection.clusterNodes !== undefined) {
    throw new ConfigError(
      'this connection is to one Redis server (REDIS_URL); REDIS_CLUSTER_NODES names a cluster',
    );
  }
  return openServer(connection);
}

/**
 * Opens a connection to a Redis Cluster when `clusterNodes` is set, to one server otherwise, with
 * the same ACL user, password and TLS either way. Callers send commands whose keys share a slot
 * (see `runtime/keys.ts`), so their code is the same for both.
 */
export function connectRedisClient(connection: RedisConnectionOptions = {}): RedisClient {
  if (connection.clusterNodes === undefined) return openServer(connection);
  const seeds: RedisClusterSeeds =
    typeof connection.clusterNodes === 'string'
      ? parseClusterNodes(connection.clusterNodes)
      : { nodes: checkClusterNodes(connection.clusterNodes), tls: false };
  const redisOptions = nodeOptions(connection, seeds.tls);
  return quietErrors(new Cluster(seeds.nodes, { ...connection.clusterOptions, redisOptions }));
}

/**
 * Connection errors reach the callers as rejected commands (classified in redis-errors.ts); with
 * no listener, ioredis would also print every failed reconnect attempt with its stack as an
 * "Unhandled error event". A caller wanting the events adds listeners of its own.
 */
export function quietErrors<T extends Redis | Cluster>(client: T): T {
  client.on('error', () => undefined);
  return client;
}

function openServer(connection: RedisConnectionOptions): Redis {
  const url = connection.url ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url))
    throw new ConfigError(`Redis URL must start with redis:// or rediss://, got "${url}"`);
  return quietErrors(new Redis(url, nodeOptions(connection, false)));
}

/**
 * The ioredis options of one connection: the ACL user, TLS files, then the caller's extras.
 * `tlsOn` turns TLS on without files (a `rediss://` cluster node list; a server's `rediss://` URL
 * does that inside ioredis).
 */
function nodeOptions(connection: RedisConnectionOptions, tlsOn: boolean): RedisOptions {
  const options: RedisOptions = { ...connection.options };
  if (connection.username !== undefined) options.username = connection.username;
  if (connection.password !== undefined) options.password = connection.password;
  if (tlsOn && options.tls === undefined) options.tls = {};
  const tls = connection.tls;
  if (tls && (tls.caFile || tls.certFile || tls.keyFile || tls.rejectUnauthorized !== undefined)) {
    // The files join whatever TLS options `options` carries (a pin, a server name), never replace them.
    options.tls = {
      ...(typeof options.tls === 'object' ? options.tls : {}),
      ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      ...(tls.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: tls.rejectUnauthorized }
        : {}),
    };
  }
  return options;
}
