import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from '../../runtime/redis-client.ts';

/** The server processes behind a client: the server itself, or a cluster's masters and replicas. */
function nodesOf(client: RedisClient, role: 'master' | 'slave'): Redis[] {
  if (client instanceof Cluster) return client.nodes(role);
  return role === 'master' ? [client] : [];
}

/** CPU time the server processes have used so far, µs (INFO cpu: user + system). */
export interface RedisCpu {
  /** The server, or the sum over a cluster's masters. */
  masters: number;
  /** The sum over a cluster's replicas (0 for one server without replicas). */
  replicas: number;
}

/**
 * Server CPU so far (INFO cpu), which unlike command statistics also counts request parsing,
 * replies, replication and pub/sub fan-out: the whole of what the servers spend.
 */
export async function redisCpu(client: RedisClient): Promise<RedisCpu> {
  const sum = async (nodes: Redis[]) => {
    let micros = 0;
    for (const node of nodes) {
      const info = await node.info('cpu');
      const seconds = (name: string) =>
        Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
      micros += (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
    }
    return micros;
  };
  return {
    masters: await sum(nodesOf(client, 'master')),
    replicas: await sum(nodesOf(client, 'slave')),
  };
}

/**
 * Commands the servers (a cluster's masters) have run so far, by name (INFO commandstats). A
 * script's inner commands count too, so a capture call shows as one `evalsha` plus its `xadd`
 * and `hset`s.
 */
export async function redisCommands(client: RedisClient): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const node of nodesOf(client, 'master')) {
    const info = await node.info('commandstats');
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      calls.set(match[1]!, (calls.get(match[1]!) ?? 0) + Number(match[2]));
    }
  }
  return calls;
}

/** CPU used between two readings, µs. */
export function cpuSince(before: RedisCpu, after: RedisCpu): RedisCpu {
  return { masters: after.masters - before.masters, replicas: after.replicas - before.replicas };
}

/** redis_version of the server, or of the first master of a cluster. */
export async function redisVersion(client: RedisClient): Promise<string> {
  const node = nodesOf(client, 'master')[0];
  const info = node ? await node.info('server') : '';
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

/** How many masters and replicas serve the client. */
export function nodeCounts(client: RedisClient): { masters: number; replicas: number } {
  return {
    masters: nodesOf(client, 'master').length,
    replicas: nodesOf(client, 'slave').length,
  };
}
