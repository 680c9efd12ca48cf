import { ConfigError } from './errors/config-error.ts';

/** One seed node of a Redis Cluster; ioredis learns the others from it. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/** The seed nodes of `REDIS_CLUSTER_NODES`, and whether they speak TLS. */
export interface RedisClusterSeeds {
  nodes: RedisClusterNode[];
  /** The entries were written `rediss://host:port`, as a single server's `rediss://` URL. */
  tls: boolean;
}

/**
 * Reads a node list: `host:port,host:port,…`, each entry optionally `redis://host:port` or
 * `rediss://host:port` (all with the same scheme), IPv6 hosts in brackets. The user and password
 * come from the ACL options, never from the list, which may be logged.
 */
export function parseClusterNodes(spec: string, name = 'REDIS_CLUSTER_NODES'): RedisClusterSeeds {
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new ConfigError(`${name} must list at least one host:port, got "${spec}"`);
  }
  const schemes = new Set<string>();
  const nodes = entries.map((entry) => {
    const match = /^(?:(rediss?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/@[\]]+):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[3]) : 0;
    if (!match || port < 1 || port > 65_535) {
      throw new ConfigError(
        `${name} must be a comma-separated list of host:port (optionally redis:// or rediss://), ` +
          `got "${entry}" in "${spec}"`,
      );
    }
    schemes.add(match[1] ?? 'redis');
    return { host: match[2]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
  if (schemes.size > 1) {
    throw new ConfigError(`${name} mixes redis:// and rediss:// nodes: "${spec}"`);
  }
  return { nodes, tls: schemes.has('rediss') };
}

/** Checks nodes given as objects by a library caller, as the list's parser checks its entries. */
export function checkClusterNodes(nodes: readonly RedisClusterNode[]): RedisClusterNode[] {
  if (nodes.length === 0) throw new ConfigError('clusterNodes must hold at least one node');
  for (const node of nodes) {
    if (
      typeof node.host !== 'string' ||
      node.host === '' ||
      !Number.isInteger(node.port) ||
      node.port < 1 ||
      node.port > 65_535
    ) {
      throw new ConfigError(
        `clusterNodes holds an invalid node ${JSON.stringify(node)}: expected { host, port }`,
      );
    }
  }
  return nodes.map(({ host, port }) => ({ host, port }));
}
